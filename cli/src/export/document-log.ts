/**
 * A document's full history — or every document's, the whole stream — straight from the op log: its partition read from offset 0, the document's records
 * kept, in version order — and checked: versions must run 1, 2, 3, ... with no gap and no repeat, or the read
 * fails naming the offset (an export that silently skipped an op would be worse than none).
 */
import { CollabError, isCommentEvent, type OpCommitted, type OpLog } from '@collab/core';

export interface ScanProgress {
  /** Records of the partition read so far, and how many there are (the end offset when the read began). */
  scanned: number;
  total: number;
  ops: number;
}

export async function* documentOps(
  log: OpLog,
  docId: string,
  onProgress?: (p: ScanProgress) => void,
): AsyncIterable<OpCommitted> {
  const partition = log.partitionFor(docId);
  const total = Number((await log.endOffsets())[partition] ?? 0n);
  let expected = 1;
  let scanned = 0;
  onProgress?.({ scanned, total, ops: 0 });
  for await (const batch of log.read(partition, 0n)) {
    for (const record of batch) {
      scanned = Number(record.offset) + 1;
      // The export is of ops; comment events (docs/comments.md) are not in its formats yet.
      if (record.value.docId !== docId || isCommentEvent(record.value)) continue;
      checkNext(record.value, expected, record.offset);
      expected++;
      yield record.value;
    }
    onProgress?.({ scanned, total, ops: expected - 1 });
  }
  onProgress?.({ scanned: total, total, ops: expected - 1 });
}

/**
 * Every document's history: each partition read from offset 0, in turn; a document's records come in version
 * order (they are all in its partition), documents interleaved as the log has them. Each document's versions are
 * checked as documentOps checks one.
 */
export async function* allOps(
  log: OpLog,
  onProgress?: (p: ScanProgress & { documents: number }) => void,
): AsyncIterable<OpCommitted> {
  const ends = await log.endOffsets();
  const total = Array.from({ length: log.partitionCount }, (_, p) => Number(ends[p] ?? 0n)).reduce((a, b) => a + b, 0);
  const next = new Map<string, number>();
  let ops = 0;
  let before = 0; // records of the partitions already read
  onProgress?.({ scanned: 0, total, ops, documents: 0 });
  for (let partition = 0; partition < log.partitionCount; partition++) {
    let scanned = 0;
    for await (const batch of log.read(partition, 0n)) {
      for (const record of batch) {
        scanned = Number(record.offset) + 1;
        if (isCommentEvent(record.value)) continue;
        const expected = next.get(record.value.docId) ?? 1;
        checkNext(record.value, expected, record.offset);
        next.set(record.value.docId, expected + 1);
        ops++;
        yield record.value;
      }
      onProgress?.({ scanned: before + scanned, total, ops, documents: next.size });
    }
    before += Number(ends[partition] ?? 0n);
  }
  onProgress?.({ scanned: total, total, ops, documents: next.size });
}

export function checkNext(op: OpCommitted, expected: number, offset: bigint): void {
  if (op.version === expected) return;
  const what = op.version < expected ? 'a repeated or out-of-order version' : 'a version gap';
  throw new CollabError(
    'ERR_CORRUPT',
    `${op.docId}: ${what} in the log: expected version ${expected}, found ${op.version} at offset ${offset}`,
  );
}
