/**
 * writeOps: every row keyed by (docId, version) is an upsert of the same values, so a replay, a duplicate or an
 * overlapping batch rewrites identical cells and changes nothing. Rows are written first; only once every row
 * write has succeeded does each document's head move, so a reader who sees head N can read every op up to N.
 *
 * Rows are grouped by table and partition key — ops by (doc_id, bucket), versions_by_time by (doc_id, day),
 * user_activity by (user_id, day), doc_days by doc_id, user_days by user_id — and each group goes out as one
 * unlogged single-partition batch (one mutation), cut by row count and bytes (batches.ts); a group of one row is
 * a plain statement. Batches run with bounded concurrency; token-aware routing sends each straight to a replica.
 * A batch that fails half-way is harmless: the head has not moved, and the retry rewrites identical rows.
 */
import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

import type { BatchLimits, RowWrite } from './batches.js';
import { estimateBytes, planBatches } from './batches.js';
import { forEachConcurrent } from './concurrency.js';
import { advanceHead } from './head.js';
import type { HeadContext } from './head.js';
import type { RebuildHeads } from './rebuild-heads.js';
import { advanceHeadForRebuild } from './rebuild-heads.js';

export const DAY_MS = 86_400_000;
export const dayOf = (timestamp: number): number => Math.floor(timestamp / DAY_MS);

export interface WriteContext extends HeadContext {
  writeConcurrency: number;
  batchLimits: BatchLimits;
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
      rebuild === undefined ? advanceHead(ctx, docId, versions) : advanceHeadForRebuild(ctx, rebuild, docId, versions),
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
  // The day index rows are the same for many ops: write each once per call.
  const docDays = new Set<string>();
  const userDays = new Set<string>();
  for (const [docId, versions] of byDoc) {
    for (const o of versions.values()) {
      const ts = new Date(o.timestamp);
      const day = dayOf(o.timestamp);
      const bucket = ctx.bucketOf(o.version);
      // Group keys `table NUL id NUL number`: the last part has no NUL, so ids containing NUL cannot collide.
      row(cql.insertOp, `ops\u0000${docId}\u0000${bucket}`, [
        docId,
        bucket,
        o.version,
        JSON.stringify(o.op),
        o.baseVersion,
        o.clientId,
        o.seq,
        o.userId,
        ts,
      ]);
      row(cql.insertVersionByTime, `vbt\u0000${docId}\u0000${day}`, [docId, day, ts, o.version]);
      row(cql.insertUserActivity, `ua\u0000${o.userId}\u0000${day}`, [o.userId, day, ts, docId, o.version]);
      const docDay = `${day}\u0000${docId}`;
      if (!docDays.has(docDay)) {
        docDays.add(docDay);
        row(cql.insertDocDay, `dd\u0000${docId}`, [docId, day]);
      }
      const userDay = `${day}\u0000${o.userId}`;
      if (!userDays.has(userDay)) {
        userDays.add(userDay);
        row(cql.insertUserDay, `ud\u0000${o.userId}`, [o.userId, day]);
      }
    }
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
