// Random JSON for property tests: deterministic from a seed, so a failure can be replayed.

/** A small deterministic PRNG, so a failure can be replayed from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export const TRICKY_STRINGS = [
  '',
  'plain',
  'quote " inside',
  'backslash \\',
  'ends with backslash \\\\',
  '\\"',
  'brackets [{]} , :',
  'tab\tnewline\n',
  'unicode é ✓ 🍉',
  '\u0001',
  '"}]',
];

export function randomValue(next: () => number, depth = 0): unknown {
  const kind = Math.floor(next() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0:
      return TRICKY_STRINGS[Math.floor(next() * TRICKY_STRINGS.length)];
    case 1:
      return Math.floor((next() - 0.5) * 1e6);
    case 2:
      return (next() - 0.5) * 1e3;
    case 3:
      return [true, false, null][Math.floor(next() * 3)];
    case 4:
      return `s${Math.floor(next() * 1000)}`;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`${TRICKY_STRINGS[i % TRICKY_STRINGS.length]}k${i}`, randomValue(next, depth + 1)]));
  }
}

/** JSON text with random whitespace between tokens (JSON.stringify with a random indent). */
export const serialise = (value: unknown, next: () => number) => JSON.stringify(value, null, next() < 0.5 ? undefined : ' '.repeat(Math.floor(next() * 3)));

export const randomObject = (next: () => number): Record<string, unknown> => {
  for (;;) {
    const value = randomValue(next, 0);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  }
};
