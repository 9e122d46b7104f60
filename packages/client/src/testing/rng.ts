import { seededRandom } from '@collab/core';

/**
 * A seeded PRNG (mulberry32, from @collab/core): the same seed replays the same run, so a failing seed is a
 * reproduction. The simulated server draws its faults from it and the fake network its delays and drops.
 */
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
