// Runs the built connector (dist/main.js) as a child process, the way the platform does, and
// parses what it printed. Every stdout line must be a valid Airbyte message, and no configured
// secret (nor its base64 form) may appear in stdout or stderr.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertProtocolLine, repoRoot } from './shared';

export const MAIN = join(repoRoot, 'dist', 'main.js');

export type Message = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  messages: Message[];
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  config?: unknown;
  catalog?: unknown;
  state?: unknown;
  env?: Record<string, string>;
  /** Values that must never be printed (the config's api_key is always included). */
  secrets?: string[];
  timeoutMs?: number;
}

/** Temp folders made by this process: removed when it exits, so test runs leave nothing behind. */
const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function writeTemp(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'connector-'));
  tempDirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

export function assertNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (const form of [secret, Buffer.from(secret).toString('base64')]) {
      if (text.includes(form)) throw new Error(`secret leaked in output: ${text.slice(Math.max(0, text.indexOf(form) - 100), text.indexOf(form) + 50)}`);
    }
  }
}

/** Spawns `node dist/main.js <command> ...` with the given files; resolves when it exits. */
export async function runConnector(command: string, options: RunOptions = {}, extraArgs: string[] = []): Promise<RunResult> {
  const args = [MAIN, command];
  if (options.config !== undefined) args.push('--config', writeTemp('config.json', options.config));
  if (options.catalog !== undefined) args.push('--catalog', writeTemp('catalog.json', options.catalog));
  if (options.state !== undefined) args.push('--state', writeTemp('state.json', options.state));
  args.push(...extraArgs);
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutChunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  // Every byte on stdout must be valid UTF-8 (a lenient decode would hide a broken line).
  const stdout = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(stdoutChunks));
  const secrets = [...(options.secrets ?? [])];
  const key = (options.config as { api?: { api_key?: unknown } } | undefined)?.api?.api_key;
  if (typeof key === 'string' && key !== '') secrets.push(key);
  assertNoSecrets(stdout + stderr, secrets);
  const messages = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(assertProtocolLine);
  return { code, signal, messages, stdout, stderr };
}

export const recordsOf = (messages: Message[], stream?: string): Record<string, unknown>[] =>
  messages.filter((m) => m.type === 'RECORD' && (!stream || m.record.stream === stream)).map((m) => m.record.data);

export const statesOf = (messages: Message[], stream?: string): Message[] =>
  messages.filter((m) => m.type === 'STATE' && (!stream || m.state.stream.stream_descriptor.name === stream)).map((m) => m.state);

/** The text of each LOG message, of one level if given. */
export const logsOf = (messages: Message[], level?: string): string[] =>
  messages.filter((m) => m.type === 'LOG' && (!level || m.log.level === level)).map((m) => m.log.message as string);

export const errorsOf = (messages: Message[]): Message[] => messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'ERROR').map((m) => m.trace.error);

/** The stream a RECORD, STATE or stream status is about (undefined for other messages). */
export const streamOf = (m: Message): string | undefined =>
  m.type === 'RECORD'
    ? m.record.stream
    : m.type === 'STATE'
      ? m.state.stream.stream_descriptor.name
      : m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS'
        ? m.trace.stream_status.stream_descriptor.name
        : undefined;

export const statusesOf = (messages: Message[], stream: string): string[] =>
  messages
    .filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.stream_descriptor.name === stream)
    .map((m) => m.trace.stream_status.status);

/** A configured catalog reading the given streams in the given modes. */
export function catalogFor(streams: Record<string, 'full_refresh' | 'incremental'>): unknown {
  return {
    streams: Object.entries(streams).map(([name, mode]) => ({
      stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
      sync_mode: mode,
      destination_sync_mode: mode === 'incremental' ? 'append_dedup' : 'overwrite',
    })),
  };
}

/** The last STATE of each stream, as the platform would pass to the next sync. */
export function lastStates(messages: Message[]): Message[] {
  const byStream = new Map<string, Message>();
  for (const state of statesOf(messages)) byStream.set(state.stream.stream_descriptor.name, { type: 'STREAM', stream: state.stream });
  return [...byStream.values()];
}

/** Each STATE counts exactly the records of its stream printed since that stream's STATE before: none ahead of its records. */
export function assertStatesCountTheirRecords(messages: Message[]): void {
  const since = new Map<string, number>();
  for (const message of messages) {
    if (message.type === 'RECORD') since.set(message.record.stream, (since.get(message.record.stream) ?? 0) + 1);
    if (message.type === 'STATE') {
      const stream = message.state.stream.stream_descriptor.name;
      assert.equal(message.state.sourceStats.recordCount, since.get(stream) ?? 0, `a STATE of ${stream} counts the records before it`);
      since.set(stream, 0);
    }
  }
}

/** Per-stream STATE messages, as the platform passes them to `read --state`: `{stream: stream_state}`. */
export const streamStates = (states: Record<string, unknown>): Message[] =>
  Object.entries(states).map(([name, stream_state]) => ({ type: 'STREAM', stream: { stream_descriptor: { name }, stream_state } }));
