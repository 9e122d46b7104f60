/**
 * partitionFor(docId): Kafka's default partitioner — murmur2 of the key's UTF-8 bytes (seed 0x9747b28c, the Java
 * client's variant), made positive, modulo the partition count. Any stable hash would do for the embedded log;
 * using Kafka's means a document has the same partition number in both modes, so a log exported from one mode
 * and replayed into the other keeps every document in the partition its key says.
 */

const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2` as a signed 32-bit integer. */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The Java code's switch falls through: 3 bytes left mixes in all three, 2 bytes two, 1 byte one.
  const rest = length % 4;
  if (rest >= 3) h ^= bytes[whole + 2]! << 16;
  if (rest >= 2) h ^= bytes[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= bytes[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

export function createPartitionFor(partitionCount: number): (docId: string) => number {
  return (docId) => (murmur2(encoder.encode(docId)) & 0x7fffffff) % partitionCount;
}
