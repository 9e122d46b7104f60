/**
 * Which offset of a partition may be checkpointed. After a crash the next owner resumes after the committed
 * offset and rebuilds each document lazily from its latest snapshot + the read models. That is only enough if
 * every record at or below the checkpoint is either in a durable snapshot or was never needed (a replay of a
 * version we already had). So the checkpoint stops just below the oldest record some document still needs:
 * an unsnapshotted op, or a record waiting for its document to load. A dirty document therefore holds its
 * partition's checkpoint back until its next snapshot (at most `idleMs` / `maxDirtyMs` / N versions later),
 * which costs a short redelivery after a crash and keeps the "it still needs a snapshot" knowledge durable.
 */
import type { Offset } from '@collab/core';

export class PartitionProgress {
  /** The highest offset handled, per partition. */
  private readonly seen = new Map<number, Offset>();
  private readonly checkpointed = new Map<number, Offset>();

  handled(partition: number, offset: Offset): void {
    if (offset > (this.seen.get(partition) ?? -1n)) this.seen.set(partition, offset);
  }

  /**
   * The new checkpoint for `partition` given the lowest offset still needed there (undefined: none), or
   * undefined when it would not move forward.
   */
  advance(partition: number, firstNeeded: Offset | undefined): Offset | undefined {
    const seen = this.seen.get(partition);
    if (seen === undefined) return undefined;
    const candidate = firstNeeded === undefined ? seen : firstNeeded - 1n;
    if (candidate < 0n || candidate <= (this.checkpointed.get(partition) ?? -1n)) return undefined;
    this.checkpointed.set(partition, candidate);
    return candidate;
  }

  forget(partition: number): void {
    this.seen.delete(partition);
    this.checkpointed.delete(partition);
  }

  partitions(): number[] {
    return [...this.seen.keys()];
  }
}
