// Runs one process with stdout piped to a consumer that counts lines, and measures its wall time
// and peak RSS: VmHWM from /proc (Linux, as the image is), as the process reports it at exit through
// peak-rss-hook, and sampled every 10 ms in case it dies without reporting.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Measured {
  wallMs: number;
  /** From the start to the first byte on stdout, and to the first RECORD (the start-up, before any data flows). */
  firstOutputMs: number;
  firstRecordMs: number;
  lines: number;
  records: number;
  bytes: number;
  peakRssMb: number;
}

const RECORD = Buffer.from('{"type":"RECORD"');

export async function measure(args: string[], env: Record<string, string> = {}): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--require', join(__dirname, 'peak-rss-hook.js'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    env: { ...process.env, ...env },
  });
  let lines = 0;
  let records = 0;
  let bytes = 0;
  let peakKb = 0;
  let firstOutputMs = NaN;
  let firstRecordMs = NaN;
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // already gone
    }
  };
  const timer = setInterval(sample, 10);
  // The tail of the previous chunk, so a RECORD prefix cut between two chunks is still counted.
  let carry = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    if (bytes === 0) firstOutputMs = performance.now() - started;
    if (records === 0 && chunk.includes(RECORD)) firstRecordMs = performance.now() - started;
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    const joined = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, RECORD.length)]) : undefined;
    if (joined) for (let i = joined.indexOf(RECORD); i !== -1 && i < carry.length; i = joined.indexOf(RECORD, i + 1)) records++;
    for (let i = chunk.indexOf(RECORD); i !== -1; i = chunk.indexOf(RECORD, i + 1)) records++;
    carry = Buffer.from(chunk.subarray(Math.max(0, chunk.length - RECORD.length + 1)));
  });
  child.stdio[3]?.on('data', (report: Buffer) => (peakKb = Math.max(peakKb, Number(report.toString().trim()) || 0)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return { wallMs: performance.now() - started, firstOutputMs, firstRecordMs, lines, records, bytes, peakRssMb: peakKb / 1024 };
}
