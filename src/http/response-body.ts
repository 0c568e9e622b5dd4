// A whole response body (an API page) from bytes to text: gunzipped when its magic bytes say so,
// within a size cap, and checked to be UTF-8. What fails here is the server's answer, not the
// connection: it is never retried as a broken download would be.
import { isUtf8 } from 'node:buffer';
import * as zlib from 'node:zlib';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { firstInvalidUtf8 } from '../json';

/** Gzip's magic bytes, whatever Content-Type or Content-Encoding say. */
export const isGzip = (chunk: Buffer) => chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;

export const MEGABYTE = 1024 * 1024;

/** Why a complete answer cannot be used. */
export class UndecodableBodyError extends Error {}

/** A gzip stream that ends early: the body broke off in transit, worth asking again. */
export class CutGzipError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The first gzip member alone (RFC 1952: a header, the deflate data, CRC32 and size), for a body
 * with bytes after it that are not another member. Throws as gunzip does if the member is cut.
 */
function firstGzipMember(bytes: Buffer, maxBytes: number): Buffer {
  const flags = bytes[3];
  let at = 10;
  if (flags & 4) at += 2 + bytes.readUInt16LE(at); // FEXTRA
  if (flags & 8) at = bytes.indexOf(0, at) + 1; // FNAME
  if (flags & 16) at = bytes.indexOf(0, at) + 1; // FCOMMENT
  if (flags & 2) at += 2; // FHCRC
  return inflateRawSync(bytes.subarray(at), { maxOutputLength: maxBytes });
}

/** Decompresses a whole body, at most `maxBytes` of output. */
type Decoder = (bytes: Buffer, maxBytes: number) => Buffer;
/** zstd: Node 22.15 and later (the image runs 24); @types/node 20 does not declare it. */
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (bytes: Buffer, options: { maxOutputLength: number }) => Buffer }).zstdDecompressSync;
/** A Content-Encoding other than gzip (asked for, and recognised by its magic bytes), decoded as Node can. */
const DECODERS = new Map<string, Decoder | undefined>([
  ['br', (bytes, maxBytes) => brotliDecompressSync(bytes, { maxOutputLength: maxBytes })],
  ['deflate', (bytes, maxBytes) => ((bytes[0] & 0x0f) === 8 ? inflateSync : inflateRawSync)(bytes, { maxOutputLength: maxBytes })],
  ['zstd', zstdDecompressSync && ((bytes, maxBytes) => zstdDecompressSync(bytes, { maxOutputLength: maxBytes }))],
]);
/** Codings that leave the body as it is, or that only gzip's magic bytes decide. */
const AS_IS = new Set(['', 'identity', 'gzip']);

/**
 * Strict gunzip (a truncated stream throws), capped at `maxBytes` of output; then UTF-8 text. Bytes
 * after a complete gzip member are not part of the body: they are left aside, not taken for a cut.
 * A body in another coding (`contentEncoding`) is decoded if Node can, or refused naming it.
 */
export function decodeBody(data: unknown, maxBytes: number, contentEncoding?: unknown): string {
  if (typeof data === 'string') return data;
  let bytes: Buffer = Buffer.from(data as ArrayBuffer);
  const coding = String(contentEncoding ?? '')
    .trim()
    .toLowerCase();
  const gzip = isGzip(bytes);
  const decode = gzip ? gunzipWhole : DECODERS.get(coding);
  if (!decode && !AS_IS.has(coding)) throw new UndecodableBodyError(`it is encoded as "${coding}", which the connector cannot decode (it asks for gzip)`);
  if (decode) {
    try {
      bytes = decode(bytes, maxBytes);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new UndecodableBodyError(`it decompresses to more than ${maxBytes / MEGABYTE} MB (max_response_megabytes)`);
      throw new CutGzipError(code, `the ${gzip ? '' : `${coding} `}body could not be decompressed (${(error as Error).message})`);
    }
  }
  if (!isUtf8(bytes)) throw new UndecodableBodyError(`it is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})`);
  // A byte order mark is not part of the JSON text: "parsers MAY ignore" it (RFC 8259 §8.1).
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/** Gunzip; a body whose bytes go on after a complete member that is not followed by another is its first member. */
function gunzipWhole(bytes: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'Z_DATA_ERROR' && code !== 'Z_BUF_ERROR') throw error;
    try {
      return firstGzipMember(bytes, maxBytes);
    } catch {
      throw error;
    }
  }
}

/** An error body for its message only: decoded leniently, never larger than `maxBytes`. */
export function decodeErrorBody(data: unknown, maxBytes: number): string {
  try {
    if (typeof data === 'string') return data;
    const bytes = Buffer.from(data as ArrayBuffer);
    return (isGzip(bytes) ? gunzipSync(bytes, { maxOutputLength: maxBytes }) : bytes).toString('utf8');
  } catch {
    return '';
  }
}
