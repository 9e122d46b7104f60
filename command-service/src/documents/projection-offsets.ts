/**
 * The projection group's committed offsets on the ops topic: how far the read models are known to be complete, per
 * partition (read-side-source.ts reads the log only from there). Looked up through the Kafka admin API, shared and
 * cached briefly, and trusted only when the keyspace's projection source names that group.
 */
import type { Offset } from '@collab/core';
import { CollabError } from '@collab/core';

/** The one kafkajs admin call used (so tests and callers can hand in any admin client). */
export interface OffsetsAdmin {
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/**
 * The committed offsets of the projection group on the ops topic, per partition (undefined: none committed).
 * Concurrent lookups share one request, and an answer is reused for `maxAgeMs` (default 1 s): many documents of
 * one partition reload at once on a takeover. A reused answer can only be lower than the current one, which
 * makes a load read a longer tail, never miss an op.
 */
export function projectionOffsets(
  admin: OffsetsAdmin,
  groupId: string,
  topic: string,
  maxAgeMs = 1_000,
  now: () => number = Date.now,
): (partition: number) => Promise<Offset | undefined> {
  let cached: { at: number; offsets: Promise<Map<number, Offset>> } | undefined;
  const fetchAll = async (): Promise<Map<number, Offset>> => {
    const result = new Map<number, Offset>();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, offset } of entry?.partitions ?? []) {
      if (offset !== '-1' && offset !== '') result.set(partition, BigInt(offset));
    }
    return result;
  };
  return async (partition) => {
    const t = now();
    if (cached === undefined || t - cached.at > maxAgeMs) {
      const offsets = fetchAll();
      const entry = { at: t, offsets };
      cached = entry;
      offsets.catch(() => {
        if (cached === entry) cached = undefined; // do not keep a failure
      });
    }
    return (await cached.offsets).get(partition);
  };
}

/**
 * `offsets` (the projection group's committed offsets) guarded by the keyspace's projection source: the group
 * that claimed the read models' keyspace (migration 0004). Only when it is `groupId` do the group's offsets
 * describe the read models. Unclaimed (no projection-service of this release has run on the keyspace): no
 * committed offset, so loads use the whole log. Another group: ERR_CONFLICT, so loads use the whole log and say
 * why. Once confirmed, the claim cannot change (it is never overwritten), so it is not asked again; otherwise it
 * is asked again after `recheckMs`.
 */
export function guardedByProjectionSource(
  source: () => Promise<string | undefined>,
  groupId: string,
  offsets: (partition: number) => Promise<Offset | undefined>,
  options: {
    /** The caller has already seen the keyspace claimed by `groupId` (at start-up): no need to ask again. */
    confirmed?: boolean;
    recheckMs?: number;
    now?: () => number;
  } = {},
): (partition: number) => Promise<Offset | undefined> {
  const { recheckMs = 5_000, now = Date.now } = options;
  let confirmed = options.confirmed ?? false;
  let last: { at: number; answer: Promise<string | undefined> } | undefined;
  return async (partition) => {
    if (!confirmed) {
      const t = now();
      if (last === undefined || t - last.at > recheckMs) {
        const entry = { at: t, answer: source() };
        last = entry;
        entry.answer.catch(() => {
          if (last === entry) last = undefined; // do not keep a failure
        });
      }
      const holder = await last.answer;
      if (holder === undefined) return undefined;
      if (holder !== groupId) {
        throw new CollabError(
          'ERR_CONFLICT',
          `the read models are projected by consumer group ${holder}, not COLLAB_PROJECTION_GROUP=${groupId}`,
        );
      }
      confirmed = true;
    }
    return offsets(partition);
  };
}
