// json/: the byte path. Export files and pages cut into objects as bytes (ObjectStreamShaper, with
// its WebAssembly fast path compiled from wasm/), undeclared members moved under the catch-all field
// on the way; JSON text read without losing digits. Imports protocol/ only.
export { ObjectStreamShaper } from './object-shaper';
export { firstInvalidUtf8, isExactInteger, parseJsonExact, parseJsonLossless, TruncatedBodyError } from './text';
