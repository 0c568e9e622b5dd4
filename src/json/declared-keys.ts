// Which members of an object stay in place: its declared keys, looked up from the key's bytes.
import { MAX_FAST_KEY } from './fast-object-scan';
import { escapeRawControls, fail } from './tokens';

export class DeclaredKeys {
  /**
   * Declared keys by byte length and first byte (an array slot, not a hash): no string is made.
   * Dense, so V8 keeps it a plain array rather than a dictionary.
   */
  private readonly buckets: (Buffer[] | undefined)[] = new Array<Buffer[] | undefined>(MAX_FAST_KEY * 256).fill(undefined);

  constructor(
    private readonly declared: ReadonlySet<string>,
    /** The catch-all member's own key is never declared. */
    private readonly into: string,
    /** The declared keys by slot (declaredKeySlots), shared with the WebAssembly fast path. */
    keySlots: Map<number, Buffer[]>,
  ) {
    for (const [slot, keys] of keySlots) this.buckets[slot] = keys;
  }

  /** Whether the key whose bytes span [start, end) (quotes excluded) is declared. */
  has(bytes: Buffer, start: number, end: number, escaped: boolean): boolean {
    const length = end - start;
    if (!escaped && length > 0 && length < MAX_FAST_KEY) {
      const candidates = this.buckets[length * 256 + bytes[start]];
      if (candidates === undefined) return false;
      next: for (let k = 0; k < candidates.length; k++) {
        const candidate = candidates[k];
        for (let j = 1; j < length; j++) if (bytes[start + j] !== candidate[j]) continue next;
        return true;
      }
      return false;
    }
    // An empty or long key, or one spelled with escapes: decoded and looked up.
    let key: string;
    try {
      key = JSON.parse(escapeRawControls(bytes, start - 1, end + 1).toString('utf8')) as string;
    } catch {
      fail('a malformed key', bytes, start);
    }
    return this.declared.has(key) && key !== this.into;
  }
}
