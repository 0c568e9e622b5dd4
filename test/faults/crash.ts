// Crash and resume: a read SIGKILLed at random points (by record count) and restarted from the last
// STATE each stream printed, until a run completes, as the platform retries a failed attempt with the
// last state it received. Records a run printed before its stream's last STATE are committed: none
// may be lost and none may come again. Records printed after it are not; they are read again, so
// duplicates stay within one checkpoint window.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { MAIN, assertNoSecrets, writeTemp, type Message } from '../helpers/connector';
import { losslessMessages } from '../helpers/fullstory';
import { assertProtocolLine } from '../helpers/shared';

interface Run {
  messages: Message[];
  killed: boolean;
}

/** Runs a read; SIGKILLs it once `killAfter` RECORD lines have arrived. Only whole lines count. */
export async function runUntil(config: unknown, catalog: unknown, state: unknown, killAfter: number | undefined): Promise<Run> {
  const args = [MAIN, 'read', '--config', writeTemp('config.json', config), '--catalog', writeTemp('catalog.json', catalog)];
  if (state) args.push('--state', writeTemp('state.json', state));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let text = '';
  let records = 0;
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    if (killAfter !== undefined && !killed) {
      records += chunk.split('{"type":"RECORD"').length - 1;
      if (records >= killAfter) killed = child.kill('SIGKILL');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assertNoSecrets(text + stderr, [(config as { api: { api_key: string } }).api.api_key]);
  const lines = text.split('\n');
  lines.pop(); // a line cut by the kill never reached the platform
  for (const line of lines) assertProtocolLine(line);
  if (!killed) assert.equal(code, 0, text.slice(-500));
  return { messages: losslessMessages(lines.join('\n')), killed };
}

/** A deterministic PRNG, so a failure can be replayed. */
const random = (seed: number) => () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

export type Catalog = { streams: { stream: { name: string }; sync_mode: string }[] };

export interface Outcome {
  runs: number;
  expected: number;
  delivered: number;
  duplicates: number;
  killedInside: Set<string>;
  /** The most records of one stream a kill left printed after that stream's last STATE (read again). */
  mostUncommitted: number;
  /** The last STATE of each stream, as the completed run left them. */
  finalStates: Message[];
}

export interface CrashOptions {
  kills: number;
  seed: number;
  /** Records every incremental sync emits again by design (never placed by the cursor). */
  repeatable?: Set<string>;
  /** Full-refresh streams that cannot resume: every attempt reads them whole. */
  restarting?: Set<string>;
  /** The most records of a stream one kill may leave uncommitted (a page, a parent's children). */
  uncommittedBound?: (stream: string) => number;
}

/**
 * Kills, resumes and checks. `identity` names a record uniquely within its stream. A full-refresh
 * stream that cannot resume starts over on every attempt: each attempt that reaches its STATE must
 * hold exactly its records. Every other stream resumes from its last STATE.
 */
export async function crashAndResume(
  config: unknown,
  catalog: Catalog,
  expected: Map<string, string[]>,
  identity: (stream: string, data: Record<string, unknown>) => string,
  { kills: KILLS, seed, repeatable = new Set(), restarting = new Set(), uncommittedBound }: CrashOptions,
): Promise<Outcome> {
  const next = random(seed);
  let mostUncommitted = 0;
  const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
  const committed = new Map<string, Set<string>>([...expected.keys()].map((stream) => [stream, new Set()]));
  const states = new Map<string, Message>();
  let delivered = 0;
  let repeats = 0;
  let uncommitted = 0;
  /** Streams a kill interrupted between two of their checkpoints. */
  const killedInside = new Set<string>();
  let kills = 0;
  let runs = 0;
  for (;;) {
    runs++;
    // A random point within the first half of what is left to read (full-refresh streams are read
    // again in full if they cannot resume), so the process is still running when the signal comes.
    const left = total - [...committed].filter(([stream]) => !restarting.has(stream)).reduce((sum, [, ids]) => sum + ids.size, 0);
    const killAfter = kills < KILLS ? 1 + Math.floor((next() * Math.max(1, left)) / 2) : undefined;
    const resumedFrom = new Map(states);
    const run = await runUntil(config, catalog, states.size ? [...states.values()] : undefined, killAfter);
    if (run.killed) kills++;
    // Records at the very instant of the state a run resumed from come again by design (the cursor
    // bound is inclusive, so a record stamped then that appeared later is not lost).
    const atBoundary = new Set<string>();
    const isAtBoundary = (stream: string, data: Record<string, unknown>) =>
      Object.entries((resumedFrom.get(stream)?.stream.stream_state ?? {}) as Record<string, unknown>).some(
        ([key, value]) => typeof value === 'string' && typeof data[key] === 'string' && Date.parse(data[key] as string) === Date.parse(value),
      );
    // Per stream: records before its last STATE in this run are committed.
    const pending = new Map<string, string[]>();
    for (const message of run.messages) {
      if (message.type === 'RECORD') {
        const { stream, data } = message.record;
        const id = identity(stream, data);
        const again = committed.get(stream)!.has(id) && isAtBoundary(stream, data);
        if (again) atBoundary.add(`${stream}:${id}`);
        if (repeatable.has(`${stream}:${id}`) || again) repeats++;
        else delivered++;
        pending.set(stream, [...(pending.get(stream) ?? []), id]);
      } else if (message.type === 'STATE') {
        const stream = message.state.stream.stream_descriptor.name;
        const ids = pending.get(stream) ?? [];
        if (restarting.has(stream)) {
          assert.deepEqual([...ids].sort(), [...expected.get(stream)!].sort(), `${stream}: a completed full refresh holds every record once (run ${runs})`);
        } else {
          for (const id of ids) {
            assert.ok(
              !committed.get(stream)!.has(id) || repeatable.has(`${stream}:${id}`) || atBoundary.has(`${stream}:${id}`),
              `${stream} record ${id} committed twice (run ${runs})`,
            );
          }
        }
        for (const id of ids) committed.get(stream)!.add(id);
        pending.set(stream, []);
        states.set(stream, { type: 'STREAM', stream: message.state.stream });
      }
    }
    uncommitted += [...pending.values()].reduce((sum, ids) => sum + ids.length, 0);
    if (run.killed) {
      for (const [stream, ids] of pending) {
        if (ids.length > 0) killedInside.add(stream);
        mostUncommitted = Math.max(mostUncommitted, ids.length);
        if (uncommittedBound) assert.ok(ids.length <= uncommittedBound(stream), `${stream}: a kill left ${ids.length} records after its last STATE (run ${runs})`);
      }
    }
    if (!run.killed) break;
  }
  assert.ok(kills >= KILLS, `only ${kills} kills`);
  for (const [stream, ids] of expected) assert.deepEqual([...committed.get(stream)!].sort(), [...ids].sort(), `${stream}: every record delivered`);
  // A record comes again only if an attempt printed it after its stream's last STATE, or it belongs
  // to a stream that cannot resume, which every attempt reads in full.
  const restartedRecords = [...restarting].reduce((sum, stream) => sum + expected.get(stream)!.length, 0);
  const duplicates = delivered - (total - repeatable.size);
  assert.ok(
    duplicates <= uncommitted + restartedRecords * (runs - 1),
    `${duplicates} duplicates exceed the uncommitted records (${uncommitted}) and the re-reads of streams that start over`,
  );
  return { runs, expected: total, delivered: delivered + repeats, duplicates, killedInside, mostUncommitted, finalStates: [...states.values()] };
}

export const report = (api: string, kills: number, outcome: Outcome) =>
  console.log(
    `crash-resume ${api}: ${outcome.runs} runs, ${kills} SIGKILLs (inside ${[...outcome.killedInside].join(', ') || 'no stream'}), ${outcome.expected} records expected, ${outcome.delivered} delivered, 0 lost, ${outcome.duplicates} duplicates, at most ${outcome.mostUncommitted} records of a stream after its last STATE at a kill`,
  );
