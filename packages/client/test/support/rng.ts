import { seededRandom } from '@collab/core';

/** A seeded PRNG (mulberry32, @collab/core): the same seed replays the same run, so a failing seed is a reproduction. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}

/** The seed for a fuzz run: FUZZ_SEED from the environment to replay one, otherwise a fresh one. */
export const fuzzSeed = (): number => {
  const fromEnv = Number(process.env['FUZZ_SEED']);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
};
