/**
 * A document's full history straight from the op log: its partition read from offset 0, the document's records
 * kept, in version order — and checked: versions must run 1, 2, 3, ... with no gap and no repeat, or the read
 * fails naming the offset (an export that silently skipped an op would be worse than none).
 */
import { CollabError, type OpCommitted, type OpLog } from '@collab/core';

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
      if (record.value.docId !== docId) continue;
      checkNext(record.value, expected, record.offset);
      expected++;
      yield record.value;
    }
    onProgress?.({ scanned, total, ops: expected - 1 });
  }
  onProgress?.({ scanned: total, total, ops: expected - 1 });
}

export function checkNext(op: OpCommitted, expected: number, offset: bigint): void {
  if (op.version === expected) return;
  const what = op.version < expected ? 'a repeated or out-of-order version' : 'a version gap';
  throw new CollabError(
    'ERR_CORRUPT',
    `${op.docId}: ${what} in the log: expected version ${expected}, found ${op.version} at offset ${offset}`,
  );
}
