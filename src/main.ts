#!/usr/bin/env node
import { registry } from './apis';
import { runCommand } from './core/commands';
import { OutputWriter } from './core/output';
import { errorTrace } from './core/protocol';

async function main(): Promise<void> {
  const out = new OutputWriter(process.stdout);
  // A closed stdout (the platform stopped reading) leaves nothing to report to.
  process.stdout.on('error', () => process.exit(1));
  // SIGTERM is how the platform cancels a sync: write out what is buffered (whole lines, in order,
  // so no STATE ahead of its records) and exit with 143, which the platform accepts.
  process.once('SIGTERM', () => void out.flush().finally(() => process.exit(143)));
  process.on('uncaughtException', (error) => {
    void out.emit(errorTrace({ message: `Unexpected error: ${error.message}`, stack_trace: error.stack, failure_type: 'system_error' }));
    void out.flush().finally(() => process.exit(1));
  });
  const code = await runCommand(process.argv.slice(2), out, registry, process.env);
  await out.flush();
  process.exit(code);
}

void main();
