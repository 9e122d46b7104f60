/**
 * partitionFor(docId) is kafkajs's own default partitioner (the Java client's: murmur2 of the key, positive,
 * modulo the partition count), called with a synthetic partition list. Reusing it rather than re-implementing
 * murmur2 guarantees that a record produced with key = docId by any Java-compatible client lands on
 * partitionFor(docId), which is what lets a data team find a document's ops by key.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';

export function createPartitionFor(topic: string, partitionCount: number): (docId: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return (docId) => partitioner({ topic, partitionMetadata, message: { key: docId, value: null } });
}
