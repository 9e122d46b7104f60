/**
 * Seeded randomness for property tests. Every property test draws its seed from `OT_SEED` (to replay a failure)
 * or picks a fresh one, and names it in the failure message.
 */
import type { TextOp } from '../../src/index.js';

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test data. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randInt = (rng: Rng, n: number): number => Math.floor(rng() * n);

export function testSeed(): number {
  const fromEnv = process.env.OT_SEED;
  return fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}

/** Run `body(rng, i)` for `cases` cases; on failure, rethrow with the seed and case index to replay it. */
export function forEachCase(cases: number, body: (rng: Rng, i: number) => void, seed = testSeed()): void {
  const rng = makeRng(seed);
  for (let i = 0; i < cases; i++) {
    try {
      body(rng, i);
    } catch (err) {
      const e = err as Error;
      e.message = `${e.message}\n  (seed ${seed}, case ${i}: replay with OT_SEED=${seed})`;
      throw e;
    }
  }
}

// Letters, spaces, newlines, an astral emoji, a ZWJ family, a combining accent and CJK: positions must count
// code points, and combining marks are separate code points.
const ALPHABET = ['a', 'b', 'c', 'x', ' ', ' ', '\n', '😀', '👨‍👩‍👧', 'e\u0301', '漢', '𝒳'];

/** Random well-formed text of up to `maxLen` alphabet entries. */
export function randomText(rng: Rng, maxLen: number): string {
  let s = '';
  const len = randInt(rng, maxLen + 1);
  for (let i = 0; i < len; i++) s += ALPHABET[randInt(rng, ALPHABET.length)];
  return s;
}

/** Split text into code points. */
export const codePoints = (s: string): string[] => Array.from(s);

/**
 * A random normalized op valid on `doc`, and the text it produces — computed on arrays of code points, never with
 * the type under test.
 */
export function randomOp(rng: Rng, doc: string, opts: { textDeletes?: boolean } = {}): [TextOp, string] {
  const dl = (d: number | string): number => (typeof d === 'number' ? d : codePoints(d).length);
  const rest = codePoints(doc);
  const op: TextOp = [];
  let out = '';
  const push = (c: TextOp[number]): void => {
    const last = op[op.length - 1];
    if (last !== undefined && typeof last === typeof c) {
      if (typeof c === 'number') op[op.length - 1] = (last as number) + c;
      else if (typeof c === 'string') op[op.length - 1] = (last as string) + c;
      else {
        const d = (last as { d: number | string }).d;
        op[op.length - 1] = {
          d: typeof d === 'string' && typeof c.d === 'string' ? d + c.d : dl(d) + dl(c.d),
        };
      }
    } else op.push(c);
  };
  const steps = 1 + randInt(rng, 4);
  for (let s = 0; s < steps; s++) {
    const skip = randInt(rng, Math.min(rest.length, 6) + 1);
    if (skip > 0) {
      out += rest.splice(0, skip).join('');
      push(skip);
    }
    const kind = randInt(rng, 3);
    if (kind !== 1) {
      const text = randomText(rng, 4) || 'z';
      push(text);
      out += text;
    }
    if (kind !== 0 && rest.length > 0) {
      const n = 1 + randInt(rng, Math.min(rest.length, 5));
      const deleted = rest.splice(0, n).join('');
      const asText = opts.textDeletes ?? randInt(rng, 2) === 0;
      push({ d: asText ? deleted : n });
    }
  }
  out += rest.join('');
  while (op.length > 0 && typeof op[op.length - 1] === 'number') op.pop();
  return [op, out];
}
