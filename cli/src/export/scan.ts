/**
 * Reads the planned ranges of the log, partition by partition, and hands over the records in batches, each with
 * the partition's next offset once the batch is written: what a checkpoint records. Comment events
 * (docs/comments.md) are kept only when asked for, and records of documents not asked for are skipped, their
 * offsets passed all the same (a time range is an offset range by then: plan.ts). Each document's versions are checked (VersionCheck): an export that
 * silently skipped an op would be worse than none.
 */
import { CollabError, isOpCommitted, type LogValue, type Offset, type OpCommitted, type OpLog } from '@collab/core';
import type { PartitionRange } from './plan.js';

export interface ScanBatch {
  partition: number;
  /** Ops, and comment events if asked for, in log order. */
  records: LogValue[];
  /** Every record of the partition below this offset is handled once this batch is written. */
  next: Offset;
}

/**
 * Each document's versions must run on by one from the first one seen; a document in `fromVersionOne` must
 * start at version 1 (its whole history was asked for). `expected` (the next version of each document) can be
 * saved and handed back (resume).
 */
export class VersionCheck {
  readonly expected: Map<string, number>;

  constructor(
    private readonly fromVersionOne: ReadonlySet<string> = new Set(),
    expected: ReadonlyMap<string, number> = new Map(),
  ) {
    this.expected = new Map(expected);
  }

  next(op: OpCommitted, offset: Offset): void {
    const expected = this.expected.get(op.docId) ?? (this.fromVersionOne.has(op.docId) ? 1 : op.version);
    checkNext(op, expected, offset);
    this.expected.set(op.docId, op.version + 1);
  }
}

export function checkNext(op: OpCommitted, expected: number, offset: bigint): void {
  if (op.version === expected) return;
  const what = op.version < expected ? 'a repeated or out-of-order version' : 'a version gap';
  throw new CollabError(
    'ERR_CORRUPT',
    `${op.docId}: ${what} in the log: expected version ${expected}, found ${op.version} at offset ${offset}`,
  );
}

export async function* scanRanges(
  log: OpLog,
  ranges: readonly PartitionRange[],
  docs: ReadonlySet<string> | undefined,
  versions: VersionCheck,
  comments = false,
): AsyncIterable<ScanBatch> {
  for (const { partition, from, to } of ranges) {
    if (from >= to) continue;
    let done = false;
    for await (const batch of log.read(partition, from)) {
      const records: LogValue[] = [];
      let next = batch[0]?.offset ?? from;
      for (const record of batch) {
        if (record.offset >= to) {
          done = true;
          break;
        }
        next = record.offset + 1n;
        const value = record.value;
        if (docs !== undefined && !docs.has(value.docId)) continue;
        // A comment event shares the version of the op before it: only ops are version-checked.
        if (isOpCommitted(value)) versions.next(value, record.offset);
        else if (!comments) continue;
        records.push(value);
      }
      if (records.length > 0 || !done) yield { partition, records, next };
      if (done) break;
    }
    // The rest of the range holds no op (Kafka's transaction markers, aborted records): the range is done.
    yield { partition, records: [], next: to };
  }
}
