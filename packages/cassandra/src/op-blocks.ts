/**
 * The `op_blocks` row format (migration 0003): the ops of versions [64k, 64k + 63] of one document in one bucket
 * are one row (doc_id, bucket, block = k) whose `ops` map holds each version's op, keyed by its place in the
 * block (version - 64k, a smallint), as JSON: [base_version, client_id, seq, user_id, ts_ms, op]. One row per block instead of one per op because Cassandra's CPU cost is
 * mostly per row, even inside a single-partition batch (docs/performance.md, "Projection rebuild"). Writes add
 * map entries (`ops = ops + {...}`), so the rows do not depend on how the ops were batched.
 */
import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

/** Versions per block. Fixed for a keyspace: readers and writers must agree on it. */
export const BLOCK_SIZE = 64;
/** One write to a block carries about this many bytes at most; a larger block is written in several. */
export const BLOCK_WRITE_MAX_BYTES = 32 * 1024;

export const blockOf = (version: number): number => Math.floor(version / BLOCK_SIZE);

export interface BlockWrite {
  bucket: number;
  block: number;
  /**
   * The version's place in the block (version - BLOCK_SIZE * block) -> the op's JSON entry. A plain object, not
   * a Map: the driver encodes an object's own keys as the map's keys (a JS Map would be sent as an empty map).
   */
  entries: Record<string, string>;
  /** UTF-8 bytes of the entries plus 8 per entry (key and lengths), for the batch planner. */
  bytes: number;
}

/**
 * One document's ops as block writes: one per (bucket, block), cut into several when its entries pass
 * BLOCK_WRITE_MAX_BYTES (one op larger than that is a write of its own).
 */
export function planBlockWrites(
  versions: ReadonlyMap<number, OpCommitted>,
  bucketOf: (version: number) => number,
): BlockWrite[] {
  const sorted = [...versions.values()].sort((a, b) => a.version - b.version);
  const writes: BlockWrite[] = [];
  let current: BlockWrite | undefined;
  for (const o of sorted) {
    const entry = encodeEntry(o);
    const bytes = Buffer.byteLength(entry, 'utf8') + 8;
    const bucket = bucketOf(o.version);
    const block = blockOf(o.version);
    if (
      current === undefined ||
      current.bucket !== bucket ||
      current.block !== block ||
      current.bytes + bytes > BLOCK_WRITE_MAX_BYTES
    ) {
      current = { bucket, block, entries: {}, bytes: 0 };
      writes.push(current);
    }
    current.entries[String(o.version - block * BLOCK_SIZE)] = entry;
    current.bytes += bytes;
  }
  return writes;
}

export const encodeEntry = (o: OpCommitted): string =>
  JSON.stringify([o.baseVersion, o.clientId, o.seq, o.userId, o.timestamp, o.op]);

const corrupt = (docId: string, where: string, what: string, cause?: unknown) =>
  new CollabError('ERR_CORRUPT', `Cassandra read model: ${docId} ${where}: ${what}`, { cause, retriable: false });

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);

/**
 * The ops of one stored block (the driver's map: places in the block as keys), in version order, each checked:
 * its place is 0..BLOCK_SIZE - 1, its version belongs to this bucket, and its entry is well-formed.
 */
export function decodeBlock(
  docId: string,
  bucket: number,
  block: number,
  map: unknown,
  bucketOf: (version: number) => number,
): OpCommitted[] {
  const where = `block ${block} of bucket ${bucket}`;
  if (typeof map !== 'object' || map === null) throw corrupt(docId, where, 'ops is not a map');
  const ops: OpCommitted[] = [];
  for (const [key, json] of Object.entries(map)) {
    const place = Number(key);
    const version = block * BLOCK_SIZE + place;
    if (!isInt(place) || place < 0 || place >= BLOCK_SIZE || bucketOf(version) !== bucket) {
      throw corrupt(docId, where, `holds place ${key}`);
    }
    ops.push(decodeEntry(docId, version, json));
  }
  return ops.sort((a, b) => a.version - b.version);
}

export function decodeEntry(docId: string, version: number, json: unknown): OpCommitted {
  let entry: unknown;
  try {
    entry = typeof json === 'string' ? JSON.parse(json) : undefined;
  } catch (cause) {
    throw corrupt(docId, `version ${version}`, 'the op entry is not JSON', cause);
  }
  if (!Array.isArray(entry) || entry.length !== 6) {
    throw corrupt(docId, `version ${version}`, 'the op entry is not a 6-tuple');
  }
  const [baseVersion, clientId, seq, userId, timestamp, op] = entry as unknown[];
  if (
    !isInt(baseVersion) ||
    typeof clientId !== 'string' ||
    !isInt(seq) ||
    typeof userId !== 'string' ||
    !isInt(timestamp) ||
    !Array.isArray(op)
  ) {
    throw corrupt(docId, `version ${version}`, 'the op entry is malformed');
  }
  return { docId, version, op: op as OpCommitted['op'], baseVersion, clientId, seq, userId, timestamp };
}
