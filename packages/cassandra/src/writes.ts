/**
 * writeOps: every row keyed by (docId, version) is an upsert of the same values, so a replay, a duplicate or an
 * overlapping batch rewrites identical cells and changes nothing. Rows are written first, concurrently; only
 * then does each document's head move, so a reader who sees head N can read every op up to N.
 *
 * Rows go out as single prepared statements with bounded concurrency rather than as batches: a multi-partition
 * logged batch costs a batchlog write, and even a single-partition unlogged batch of large ops can cross
 * Cassandra's batch_size_fail_threshold (50 KiB); token-aware routing sends each statement straight to a replica.
 */
import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

import { forEachConcurrent } from './concurrency.js';
import { advanceHead } from './head.js';
import type { HeadContext } from './head.js';

export const DAY_MS = 86_400_000;
export const dayOf = (timestamp: number): number => Math.floor(timestamp / DAY_MS);

interface Write {
  query: string;
  params: unknown[];
}

export interface WriteContext extends HeadContext {
  writeConcurrency: number;
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
  const writes = rowWrites(ctx, byDoc);
  await forEachConcurrent(writes, ctx.writeConcurrency, async (w) => {
    await ctx.exec.execute(w.query, w.params, 'write ops');
  });
  await forEachConcurrent([...byDoc], ctx.writeConcurrency, ([docId, versions]) => advanceHead(ctx, docId, versions));
}

function rowWrites(ctx: WriteContext, byDoc: Map<string, Map<number, OpCommitted>>): Write[] {
  const { cql } = ctx;
  const writes: Write[] = [];
  // The day index rows are the same for many ops: write each once per call.
  const docDays = new Set<string>();
  const userDays = new Set<string>();
  for (const [docId, versions] of byDoc) {
    for (const o of versions.values()) {
      const ts = new Date(o.timestamp);
      const day = dayOf(o.timestamp);
      writes.push(
        {
          query: cql.insertOp,
          params: [
            docId,
            ctx.bucketOf(o.version),
            o.version,
            JSON.stringify(o.op),
            o.baseVersion,
            o.clientId,
            o.seq,
            o.userId,
            ts,
          ],
        },
        { query: cql.insertVersionByTime, params: [docId, day, ts, o.version] },
        { query: cql.insertUserActivity, params: [o.userId, day, ts, docId, o.version] },
      );
      if (!docDays.has(`${day}\u0000${docId}`)) {
        docDays.add(`${day}\u0000${docId}`);
        writes.push({ query: cql.insertDocDay, params: [docId, day] });
      }
      if (!userDays.has(`${day}\u0000${o.userId}`)) {
        userDays.add(`${day}\u0000${o.userId}`);
        writes.push({ query: cql.insertUserDay, params: [o.userId, day] });
      }
    }
  }
  return writes;
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
