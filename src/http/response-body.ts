// A whole response body (an API page) from bytes to text: gunzipped when its magic bytes say so,
// within a size cap, and checked to be UTF-8. What fails here is the server's answer, not the
// connection: it is never retried as a broken download would be.
import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
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

/** Strict gunzip (a truncated stream throws), capped at `maxBytes` of output; then UTF-8 text. */
export function decodeBody(data: unknown, maxBytes: number): string {
  if (typeof data === 'string') return data;
  let bytes = Buffer.from(data as ArrayBuffer);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new UndecodableBodyError(`it decompresses to more than ${maxBytes / MEGABYTE} MB (max_response_megabytes)`);
      throw new CutGzipError(code, `the body could not be decompressed (${(error as Error).message})`);
    }
  }
  if (!isUtf8(bytes)) throw new UndecodableBodyError(`it is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})`);
  return bytes.toString('utf8');
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
