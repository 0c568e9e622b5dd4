#!/usr/bin/env node
// First: the modules loaded after it are compiled from the cache.
import './compile-cache';
import { registry } from './apis';
import { runCommand, SyncProgress } from './cli';
import { errorTrace, logMessage, OutputWriter } from './protocol';

/** How long a cancelled sync may spend handing its last lines to the destination. */
const SIGTERM_FLUSH_MS = 5_000;

async function main(): Promise<void> {
  const out = new OutputWriter(process.stdout);
  const progress = new SyncProgress(out, process.env);
  // A closed stdout (the platform stopped reading) leaves nothing to report to.
  process.stdout.on('error', () => process.exit(1));
  // SIGTERM is how the platform cancels a sync (SIGINT and SIGHUP, a terminal's): a WARN says so,
  // then what is buffered goes out (whole lines, in order, so no STATE ahead of its records) and
  // nothing after it, and the process exits with 128 + the signal's number (143 for SIGTERM, which
  // the platform accepts). A destination that no longer reads cannot hold the exit: after
  // SIGTERM_FLUSH_MS the rest is dropped, and what did go out is a prefix of the output.
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      setTimeout(() => process.exit(code), SIGTERM_FLUSH_MS);
      const where = progress.whereStopped();
      // Each stream's last STATE is where the next attempt or sync goes on.
      const cancelled = `Sync cancelled (${signal})${where ? `; ${where}` : ''}: the lines read so far are written, then nothing more`;
      void out.close(logMessage('WARN', cancelled)).finally(() => process.exit(code));
    });
  }
  process.on('uncaughtException', (error) => {
    void out.emit(errorTrace({ message: `Unexpected error: ${error.message}`, stack_trace: error.stack, failure_type: 'system_error' }));
    void out.flush().finally(() => process.exit(1));
  });
  const code = await runCommand(process.argv.slice(2), out, registry, process.env, progress);
  await out.flush();
  process.exit(code);
}

void main();
