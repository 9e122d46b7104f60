/**
 * Which offsets of which partitions an export reads: per partition the range [from, to), the intersection of
 *  - the offset range asked for (--from-offsets / --to-offsets),
 *  - the time range as offsets: from offsetsForTime(since) to offsetsForTime(until), the first entry of the log
 *    stamped at or after each time (Kafka's ListOffsets by timestamp; the same rule in SQL on the embedded log).
 *    Both ends are offsets, not a filter on each record's stamp, so consecutive windows [a, b), [b, c) split
 *    every partition at the same offset b and hold each record exactly once. A filter could not: a record stamped
 *    before b may follow the entry for b (a commit marker carries the broker's time; a new owner's clock may be
 *    behind its predecessor's), and it would fall outside both windows,
 *  - for a set of documents, their partitions only, from the earliest start of their documents (document-start.ts),
 *  - the end of the partition when the export began: records appended after it belong to the next export.
 */
import type { Offset, OpLog } from '@collab/core';
import type { DocumentStart } from './document-start.js';
import type { ExportRequest } from './request.js';

export interface PartitionRange {
  partition: number;
  from: Offset;
  to: Offset;
}

const max = (a: Offset, b: Offset) => (a > b ? a : b);
const min = (a: Offset, b: Offset) => (a < b ? a : b);

export async function planRanges(
  log: OpLog,
  request: ExportRequest,
  documentStart: DocumentStart,
): Promise<PartitionRange[]> {
  const ends = await log.endOffsets();
  const since = request.since === undefined ? undefined : await log.offsetsForTime(request.since);
  const until = request.until === undefined ? undefined : await log.offsetsForTime(request.until);
  const starts = new Map<number, Offset>(); // the earliest document start of each partition asked for
  if (request.docs !== 'all') {
    for (const docId of request.docs) {
      const partition = log.partitionFor(docId);
      const start = await documentStart(docId);
      starts.set(partition, min(starts.get(partition) ?? start, start));
    }
  }
  const ranges: PartitionRange[] = [];
  for (let partition = 0; partition < log.partitionCount; partition++) {
    if (request.docs !== 'all' && !starts.has(partition)) continue;
    const end = ends[partition] ?? 0n;
    let from = request.fromOffsets.get(partition) ?? 0n;
    if (since !== undefined) from = max(from, since[partition] ?? end);
    from = max(from, starts.get(partition) ?? 0n);
    let to = min(request.toOffsets.get(partition) ?? end, end);
    if (until !== undefined) to = min(to, until[partition] ?? end);
    ranges.push({ partition, from: min(from, to), to });
  }
  return ranges;
}
