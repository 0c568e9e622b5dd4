// The WebAssembly fast path of ObjectStreamShaper (source: wasm/fast-object-scan.ts, AssemblyScript).
// A JavaScript loop looks at about one byte per nanosecond at best; this one skips 16 bytes of a
// string at a time, so the shaper keeps up with gunzip (bench case 1). It takes only plain objects
// and hands everything else back to the TypeScript shaper, which stays the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SystemError } from '../protocol';

/** Scans longer than this (an object of megabytes) stay in TypeScript: the module's memory stays small. */
export const FAST_SCAN_MAX_BYTES = 2 * 1048576;
/** Keys shorter than this many bytes are found by their length and first byte (both paths); longer ones are decoded. */
export const MAX_FAST_KEY = 64;
/** Member runs an object may have on the fast path (more: the TypeScript shaper takes the object). */
const MAX_RUNS = 1024;
const PAGE = 65536;
/** Why a run stopped, as the module numbers it: 0 the input ended, 2 its output is full (call again), or this: */
export const STOP_HANDOVER = 1;
/** Stages as the module numbers them. */
export const STAGE_ITEM = 0;
export const STAGE_AFTER = 1;

/** The WebAssembly globals used here (only the DOM library, which this project does not load, declares them). */
declare namespace WebAssembly {
  class Module {
    constructor(code: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}

interface ScanExports {
  memory: WebAssembly.Memory;
  configure(table: number, into: number, intoBytes: number, appended: number, appendedBytes: number, ndjson: number, runs: number, runPairs: number): void;
  shape(i: number, end: number, stage: number, out: number, outCapacity: number, ends: number, results: number): number;
}

/** The compiled module: code only, each shaper instantiates its own memory. */
let compiled: WebAssembly.Module | undefined;
function moduleCode(): WebAssembly.Module {
  if (compiled === undefined) {
    const path = join(__dirname, 'fast-object-scan.wasm');
    let code: Buffer;
    try {
      code = readFileSync(path);
    } catch (error) {
      throw new SystemError(`the export shaper's WebAssembly module cannot be read (${(error as Error).message}); \`npm run build\` writes it to ${path}`);
    }
    compiled = new WebAssembly.Module(code);
  }
  return compiled;
}

export interface FastRun {
  stop: number;
  /** Input index reached, and the stage there. */
  at: number;
  stage: number;
  /** The shaped objects, back to back, and where each ends (views into the module's memory: copy before the next call). */
  output: Uint8Array;
  ends: Uint32Array;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

/**
 * The declared keys as bytes by slot (length × 256 + first byte), shorter than MAX_FAST_KEY; `into`
 * is left out, as a member of that name is moved too (nothing is overwritten).
 */
export function declaredKeySlots(declared: ReadonlySet<string>, into: string): Map<number, Buffer[]> {
  const slots = new Map<number, Buffer[]>();
  for (const key of declared) {
    const bytes = Buffer.from(key);
    if (key === into || bytes.length === 0 || bytes.length >= MAX_FAST_KEY) continue;
    const slot = bytes.length * 256 + bytes[0];
    slots.set(slot, [...(slots.get(slot) ?? []), bytes]);
  }
  return slots;
}

/**
 * Layout of the module's memory, from its second page (the first holds the module's own data):
 * key table (a list address per key length and first byte) · key lists · `into` member · appended
 * members · member runs · results · input (then zeros) · output · object ends.
 */
export class FastObjectScan {
  private readonly exports: ScanExports;
  private bytes!: Uint8Array;
  private words!: Uint32Array;
  private readonly results: number;
  private readonly inputAt: number;
  private inputCapacity = 0;
  private readonly objectExtra: number;

  constructor(keySlots: ReadonlyMap<number, Buffer[]>, intoMember: Buffer, appendedMembers: Buffer, ndjson: boolean) {
    this.exports = new WebAssembly.Instance(moduleCode(), {}).exports as unknown as ScanExports;
    const table = PAGE;
    const lists = table + MAX_FAST_KEY * 256 * 4;
    let at = lists;
    for (const keys of keySlots.values()) at += 4 + keys.length * keys[0].length;
    const intoAt = align(at);
    const appendedAt = align(intoAt + intoMember.length);
    const runs = align(appendedAt + appendedMembers.length);
    this.results = runs + MAX_RUNS * 16;
    this.inputAt = align(this.results + 16);
    this.objectExtra = intoMember.length + appendedMembers.length + 64;
    this.ensure(this.inputAt);
    at = lists;
    for (const [slot, keys] of keySlots) {
      this.words[(table >> 2) + slot] = at;
      new DataView(this.bytes.buffer).setUint32(at, keys.length, true);
      keys.forEach((key, k) => this.bytes.set(key, at + 4 + k * key.length));
      at += 4 + keys.length * keys[0].length;
    }
    this.bytes.set(intoMember, intoAt);
    this.bytes.set(appendedMembers, appendedAt);
    this.exports.configure(table, intoAt, intoMember.length, appendedAt, appendedMembers.length, ndjson ? 1 : 0, runs, MAX_RUNS);
  }

  /** Grows the memory to hold `end` bytes; views are made again (growing detaches the old ones). */
  private ensure(end: number): void {
    const { memory } = this.exports;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    if (this.bytes?.buffer !== memory.buffer) {
      this.bytes = new Uint8Array(memory.buffer);
      this.words = new Uint32Array(memory.buffer);
    }
  }

  /** Where the output and the objects' ends go, after the input (16 bytes apart: SIMD loads read past the text's end). */
  private get layout(): { out: number; outCapacity: number; ends: number; end: number } {
    const out = align(this.inputAt + this.inputCapacity + 16);
    const outCapacity = this.inputCapacity + this.objectExtra;
    const ends = align(out + outCapacity);
    // An object takes two bytes at least.
    return { out, outCapacity, ends, end: ends + 4 * (Math.ceil(this.inputCapacity / 2) + 1) };
  }

  /** Copies in the scan's bytes (the text and its zero padding), making room for the output and ends. */
  load(scan: Buffer): void {
    if (scan.length > this.inputCapacity) {
      this.inputCapacity = Math.max(scan.length, Math.min(2 * this.inputCapacity, FAST_SCAN_MAX_BYTES + 64));
      this.ensure(this.layout.end);
    }
    this.bytes.set(scan, this.inputAt);
  }

  /** Shapes plain objects from index `i` of the loaded text (`end` bytes long) in `stage`. */
  shape(i: number, end: number, stage: number): FastRun {
    const { out, outCapacity, ends } = this.layout;
    const stop = this.exports.shape(this.inputAt + i, this.inputAt + end, stage, out, outCapacity, ends, this.results);
    const r = this.results >> 2;
    const used = this.words[r + 2];
    return {
      stop,
      at: this.words[r] - this.inputAt,
      stage: this.words[r + 1],
      output: this.bytes.subarray(out, out + used),
      ends: this.words.subarray(ends >> 2, (ends >> 2) + this.words[r + 3]),
    };
  }
}
