/**
 * Group commit for one partition. A Kafka transactional producer runs one transaction at a time, so every append
 * to a partition goes through here: records that arrive while a transaction is in flight wait and go out together
 * in the next one. Throughput grows with load instead of being capped at one transaction per op.
 */
import type { AppendInput, PartitionWriter } from '@collab/core';

interface Waiting {
  records: readonly AppendInput[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class PartitionCommitter {
  private queue: Waiting[] = [];
  private flushing = false;

  constructor(readonly writer: PartitionWriter) {}

  /** Resolves once `records` are durable in the log (or rejects, with nothing of them appended). */
  append(records: readonly AppendInput[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.writer.append(batch.flatMap((w) => w.records));
        for (const w of batch) w.resolve();
      } catch (err) {
        // The transaction is all-or-none, but after a timeout its outcome is unknown: callers must treat their
        // records as "maybe committed" and reload the document from the log before sequencing more ops.
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = false;
  }
}
