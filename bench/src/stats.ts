/**
 * Latency bookkeeping with bounded memory: a log-bucketed histogram (1% relative precision from 10 µs to
 * hours), so a run with millions of deliveries (every op × every other client of a hot document) costs a few
 * kilobytes, and percentiles are exact to within 1%.
 */
import { seededRandom } from '@collab/core';

const MIN_MS = 0.01;
const GROWTH = Math.log(1.01);

/** A histogram as plain data, to cross a process boundary (structured clone or JSON). */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  max: number;
}

export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }

  /** Adds another histogram's samples: the percentiles of the result are those of the union of the samples. */
  merge(other: Histogram | HistogramData): this {
    const buckets: Iterable<[number, number]> = other instanceof Histogram ? other.buckets : other.buckets;
    for (const [index, n] of buckets) this.buckets.set(index, (this.buckets.get(index) ?? 0) + n);
    this.count += other.count;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  data(): HistogramData {
    return { buckets: [...this.buckets], count: this.count, max: this.max };
  }

  record(ms: number): void {
    const index = ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The value below which p% of the samples fall (the bucket's upper edge); undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * Math.exp(index * GROWTH));
    }
    return this.max;
  }

  summary(): LatencySummary {
    const r = (x: number | undefined) => (x === undefined ? null : Math.round(x * 100) / 100);
    return {
      count: this.count,
      p50: r(this.percentile(50)),
      p95: r(this.percentile(95)),
      p99: r(this.percentile(99)),
      max: r(this.count === 0 ? undefined : this.max),
    };
  }
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** mulberry32, seeded: see @collab/core. */
export const rng = seededRandom;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
