// Preloaded into every measured process (`node --require`): at exit, it reports the process's own peak
// RSS on fd 3. VmHWM is this address space's high-water mark; process.resourceUsage().maxRSS is not
// used because, after fork + exec, Linux carries the parent's high-water mark into ru_maxrss (here
// the benchmark's parent, which holds the mocks' data: 128 MB reported for an 80 MB connector).
import { readFileSync, writeSync } from 'node:fs';

process.on('exit', () => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  try {
    if (match) writeSync(3, `${match[1]}\n`);
  } catch {
    // Not run by the benchmark (no fd 3): nothing to report to.
  }
});
