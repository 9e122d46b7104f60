/**
 * Where a document's records start in its partition, without reading the partition from offset 0: the read
 * models know when its first op (version 1) was committed, and the log's offsetsForTime gives the first offset
 * committed at or after that time. Every record before that offset was committed earlier, so the document's
 * version 1 is at or after it (on Kafka each record carries its op's commit time; records written before that
 * carry the producer's send time, later still, which only moves the answer earlier). A document the read models
 * do not have yet (new, or the projection behind) is read from offset 0.
 */
import type { Offset, OpLog, ReadModelStore } from '@collab/core';

export type DocumentStart = (docId: string) => Promise<Offset>;

export function documentStartFromReadModels(log: OpLog, readModels: ReadModelStore): DocumentStart {
  return async (docId) => {
    const [first] = await readModels.getOps(docId, 1, 2, 1);
    if (first === undefined) return 0n;
    return (await log.offsetsForTime(first.timestamp))[log.partitionFor(docId)] ?? 0n;
  };
}
