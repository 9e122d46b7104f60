/**
 * What this process's read_committed consumers of the ops topic have already been handed, per partition: the
 * offset after the last record a fetch brought. Such a fetch only returns records below the partition's last
 * stable offset, so a record delivered at offset L proves that everything up to L is committed *and readable*
 * by every read_committed reader.
 *
 * Why: an append is acknowledged only once its records are readable (writer.ts, read-your-writes). Asking the
 * partition's leader for its last stable offset costs one or two ListOffsets per transaction — at light load,
 * where every op is a transaction of its own, a third of the Kafka requests per op. The command-service already
 * runs a relay consumer over every partition, which fetches each committed transaction anyway: its deliveries
 * answer the question for free. The writer waits on them for a short while and asks the leader only when no
 * consumer here covers the partition or the consumer is slow (docs/performance.md, "Read-your-writes without
 * ListOffsets").
 */
import type { Offset } from '@collab/core';

interface Waiter {
  /** Resolved once a delivery reaches past this offset. */
  offset: Offset;
  resolve: (reached: boolean) => void;
}

export class VisibleOffsets {
  /** Per partition: the offset after the last record delivered. */
  private readonly reached = new Map<number, Offset>();
  /** Per partition: how many running consumers have it assigned (a delivery can be expected). */
  private readonly coverage = new Map<number, number>();
  private readonly waiters = new Map<number, Set<Waiter>>();

  /** A fetch delivered records of `partition` up to and including `lastOffset`. */
  delivered(partition: number, lastOffset: Offset): void {
    const next = lastOffset + 1n;
    if (next <= (this.reached.get(partition) ?? -1n)) return;
    this.reached.set(partition, next);
    const waiting = this.waiters.get(partition);
    if (waiting === undefined) return;
    for (const w of waiting) {
      if (next > w.offset) {
        waiting.delete(w);
        w.resolve(true);
      }
    }
  }

  /** One consumer's share of the coverage: each call says what it reads now (GROUP_JOIN; nothing once stopped). */
  reader(): { reads(partitions: Iterable<number>): void } {
    let mine = new Set<number>();
    return {
      reads: (partitions) => {
        const now = new Set(partitions);
        this.cover(
          [...mine].filter((p) => !now.has(p)),
          -1,
        );
        this.cover(
          [...now].filter((p) => !mine.has(p)),
          +1,
        );
        mine = now;
      },
    };
  }

  /** A consumer was given (+1) or lost (−1) these partitions. */
  private cover(partitions: readonly number[], delta: 1 | -1): void {
    for (const p of partitions) {
      const n = (this.coverage.get(p) ?? 0) + delta;
      if (n <= 0) this.coverage.delete(p);
      else this.coverage.set(p, n);
    }
  }

  /** Whether a consumer in this process reads `partition` now, so that waiting for its delivery makes sense. */
  covers(partition: number): boolean {
    return this.coverage.has(partition);
  }

  /** Whether a delivery already proved `offset` readable. */
  has(partition: number, offset: Offset): boolean {
    return (this.reached.get(partition) ?? -1n) > offset;
  }

  /**
   * Resolves true once a delivery proves `offset` readable, false after `timeoutMs` (or at once when no consumer
   * covers the partition): the caller then asks the leader.
   */
  waitFor(partition: number, offset: Offset, timeoutMs: number): Promise<boolean> {
    if (this.has(partition, offset)) return Promise.resolve(true);
    if (!this.covers(partition) || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiting = this.waiters.get(partition) ?? new Set<Waiter>();
      this.waiters.set(partition, waiting);
      const waiter: Waiter = {
        offset,
        resolve: (reached) => {
          clearTimeout(timer);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => {
        waiting.delete(waiter);
        resolve(false);
      }, timeoutMs);
      waiting.add(waiter);
    });
  }
}
