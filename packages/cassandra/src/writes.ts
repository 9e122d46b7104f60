/**
 * writeOps: every row keyed by (docId, version) is an upsert of the same values, so a replay, a duplicate or an
 * overlapping batch rewrites identical cells and changes nothing. Rows are written first; only once every row
 * write has succeeded does each document's head move, so a reader who sees head N can read every op up to N.
 *
 * Per call: one `op_blocks` row per 64-version block of a document the call touches (migration 0003,
 * op-blocks.ts), one version_times row per index point (every TIME_INDEX_EVERY-th version) and one
 * user_doc_buckets row per (user, document, bucket) — the indexes of migration 0002, see README.md. Rows are
 * grouped by table and partition key — op_blocks and version_times by (doc_id, bucket),
 * user_doc_buckets by user_id — and each group goes out as one unlogged single-partition batch (one mutation),
 * cut by row count and bytes (batches.ts); a group of one row is a plain statement. Batches run with bounded
 * concurrency; token-aware routing sends each straight to a replica. A batch that fails half-way is harmless:
 * the head has not moved, and the retry rewrites identical rows.
 */
import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

import type { BatchLimits, RowWrite } from './batches.js';
import { estimateBytes, planBatches } from './batches.js';
import { forEachConcurrent } from './concurrency.js';
import { advanceHead } from './head.js';
import { planBlockWrites } from './op-blocks.js';
import type { HeadContext, KnownHeads } from './head.js';
import type { RebuildHeads } from './rebuild-heads.js';
import { advanceHeadForRebuild } from './rebuild-heads.js';

export const DAY_MS = 86_400_000;
export const dayOf = (timestamp: number): number => Math.floor(timestamp / DAY_MS);

/** Versions between two time-index points (migration 0002); capped by the bucket size so every bucket has one. */
export const TIME_INDEX_EVERY = 64;
export const timeIndexEvery = (bucketSize: number): number => Math.min(TIME_INDEX_EVERY, bucketSize);
/** Index points: versions 1, 1 + K, 1 + 2K, ... Every run of K versions starting at one is in the index. */
export const isIndexPoint = (version: number, bucketSize: number): boolean =>
  (version - 1) % timeIndexEvery(bucketSize) === 0;

export interface WriteContext extends HeadContext {
  bucketSize: number;
  writeConcurrency: number;
  batchLimits: BatchLimits;
  /** Heads this store wrote or read (head.ts); the default mode's. */
  knownHeads: KnownHeads | undefined;
  /** Set only with headMode 'rebuild' (fresh keyspace, one writer): see rebuild-heads.ts. */
  rebuildHeads: RebuildHeads | undefined;
}

export async function writeOps(ctx: WriteContext, ops: readonly OpCommitted[]): Promise<void> {
  if (ops.length === 0) return;
  ops.forEach(checkOp);
  const byDoc = new Map<string, Map<number, OpCommitted>>();
  for (const op of ops) {
    let versions = byDoc.get(op.docId);
    if (versions === undefined) byDoc.set(op.docId, (versions = new Map()));
    versions.set(op.version, op);
  }
  const rebuild = ctx.rebuildHeads;
  // Before any row is sent: the rebuild tracker must know every version that may be stored.
  rebuild?.noteWrites(byDoc);
  try {
    const units = planBatches(rowWrites(ctx, byDoc), ctx.batchLimits);
    await forEachConcurrent(units, ctx.writeConcurrency, async (unit) => {
      if (unit.length === 1) {
        const row = unit[0] as RowWrite;
        await ctx.exec.execute(row.query, row.params, 'write ops');
      } else {
        await ctx.exec.batch(unit, 'write ops (batch)');
      }
    });
    await forEachConcurrent([...byDoc], ctx.writeConcurrency, ([docId, versions]) =>
      rebuild === undefined
        ? advanceHead(ctx, ctx.knownHeads, docId, versions)
        : advanceHeadForRebuild(ctx, rebuild, docId, versions),
    );
  } catch (err) {
    rebuild?.forget(byDoc.keys());
    throw err;
  }
}

function rowWrites(ctx: WriteContext, byDoc: Map<string, Map<number, OpCommitted>>): RowWrite[] {
  const { cql } = ctx;
  const rows: RowWrite[] = [];
  const row = (query: string, partition: string, params: unknown[]) =>
    rows.push({ query, params, partition, bytes: estimateBytes(params) });
  // One user_doc_buckets row per (user, document, bucket) and call, carrying the newest edit time among them.
  const userDocBuckets = new Map<string, { userId: string; docId: string; bucket: number; last: number }>();
  for (const [docId, versions] of byDoc) {
    // The ops themselves: added to their blocks, one row per 64 versions (migration 0003).
    for (const w of planBlockWrites(versions, ctx.bucketOf)) {
      rows.push({
        query: cql.addToOpBlock,
        params: [w.entries, docId, w.bucket, w.block],
        partition: `ops${JSON.stringify([docId, w.bucket])}`,
        // The key columns as any row's, plus the map's entries (not a string param: estimateBytes would count 8).
        bytes: estimateBytes([docId, w.bucket, w.block]) + w.bytes,
      });
    }
    for (const o of versions.values()) {
      const bucket = ctx.bucketOf(o.version);
      // Group keys are JSON arrays of the partition key's values: unambiguous whatever the ids contain.
      // Sparse time index: only the index points 1, 1 + K, 1 + 2K, ... (a fixed set: replays write the same rows).
      if (isIndexPoint(o.version, ctx.bucketSize)) {
        row(cql.insertVersionTime, `vt${JSON.stringify([docId, bucket])}`, [
          docId,
          bucket,
          new Date(o.timestamp),
          o.version,
        ]);
      }
      const userDocBucket = JSON.stringify([o.userId, docId, bucket]);
      const seen = userDocBuckets.get(userDocBucket);
      if (seen === undefined) userDocBuckets.set(userDocBucket, { userId: o.userId, docId, bucket, last: o.timestamp });
      else seen.last = Math.max(seen.last, o.timestamp);
    }
  }
  for (const { userId, docId, bucket, last } of userDocBuckets.values()) {
    // Write timestamp = the edit time in µs: last-write-wins then keeps the newest time (replays write equal cells).
    row(cql.insertUserDocBucket, `udb${JSON.stringify([userId])}`, [
      userId,
      docId,
      bucket,
      new Date(last),
      last * 1000,
    ]);
  }
  return rows;
}

function checkOp(o: OpCommitted): void {
  const problem =
    typeof o.docId !== 'string' || o.docId.length === 0
      ? 'docId must be a non-empty string'
      : !Number.isSafeInteger(o.version) || o.version < 1
        ? `version must be an integer >= 1, got ${o.version}`
        : !Array.isArray(o.op)
          ? 'op must be a list of components'
          : !Number.isFinite(o.timestamp)
            ? `timestamp must be a number, got ${o.timestamp}`
            : undefined;
  if (problem !== undefined) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `writeOps: ${problem} (doc ${o.docId}, version ${o.version})`);
  }
}
