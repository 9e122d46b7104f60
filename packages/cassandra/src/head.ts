/**
 * Moving a document's head forward.
 *
 * The head's `length` is the length after its `version`, computed as the previous head's length plus each
 * following op's length change. That is only right if the previous head and the ops really are consecutive, so
 * the head moves by compare-and-set on its exact previous version (an LWT `IF version = ?`, or `IF NOT EXISTS`
 * for a new document), and only through versions that are all present: with ops 1, 2 and 4 written the head
 * stays at 2 until 3 arrives, then moves to 4 in one step.
 *
 * Why an LWT rather than a monotonic plain write (e.g. USING TIMESTAMP version): a plain write could move the
 * version forward but cannot make the length right when two projection workers race from different heads; CAS on
 * the exact previous version makes every step provably consecutive. The cost is a Paxos round (four round trips
 * to a quorum instead of one) per document per batch, not per op: ops for one document are written first, then
 * the head jumps over the whole run. A replay of old ops reads the head, sees nothing to do and writes nothing.
 * A lost race (another worker moved the head) re-reads at SERIAL consistency and continues from there.
 */
import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

import type { Executor } from './executor.js';
import { lengthDelta } from './op-length.js';
import { opsAscending } from './op-range-reads.js';
import { num } from './rows.js';
import type { Statements } from './statements.js';

export interface HeadState {
  exists: boolean;
  version: number;
  length: number;
}

interface OpForHead {
  version: number;
  op: OpCommitted['op'];
  userId: string;
  timestamp: number;
}

export interface HeadContext {
  exec: Executor;
  cql: Statements;
  bucketOf(version: number): number;
  serialConsistency: number;
  pageSize: number;
}

/** Attempts before giving up; each failed attempt means another writer advanced the head, so this is generous. */
const MAX_CAS_ATTEMPTS = 16;
/** Ops read per query when the run continues past the batch (ops written earlier, out of order). */
const FILL_CHUNK = 500;

export async function advanceHead(ctx: HeadContext, docId: string, batch: ReadonlyMap<number, OpCommitted>) {
  let head = await readHeadState(ctx, docId);
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const run = await consecutiveRun(ctx, docId, head, batch);
    if (run === undefined) return;
    const { last, length } = run;
    const result = head.exists
      ? await ctx.exec.execute(
          ctx.cql.moveHead,
          [last.version, length, last.userId, new Date(last.timestamp), docId, head.version],
          'move head',
        )
      : await ctx.exec.execute(
          ctx.cql.insertHead,
          [docId, last.version, length, last.userId, new Date(last.timestamp)],
          'create head',
        );
    if (result.wasApplied()) return;
    // Lost the race (or our own earlier attempt was applied and the driver retried it): re-read linearizably.
    head = await readHeadState(ctx, docId, ctx.serialConsistency);
  }
  throw new CollabError('ERR_CONFLICT', `Head of ${docId} kept moving under us (${MAX_CAS_ATTEMPTS} attempts)`, {
    retriable: true,
  });
}

export async function readHeadState(ctx: HeadContext, docId: string, consistency?: number): Promise<HeadState> {
  const overrides = consistency === undefined ? {} : { consistency };
  const row = (await ctx.exec.execute(ctx.cql.selectHead, [docId], 'read head', overrides)).first();
  if (row === null || row === undefined) return { exists: false, version: 0, length: 0 };
  return { exists: true, version: num(row, 'version'), length: num(row, 'length') };
}

/**
 * The ops head.version+1, +2, ... for as long as they are consecutive: from the batch, else from the table.
 * `mayBeStored(v)` false means version v (and any later one) is known not to be in the table, which saves the
 * read past the batch end; only the rebuild mode knows that (rebuild-heads.ts), the default path always reads.
 */
export async function consecutiveRun(
  ctx: HeadContext,
  docId: string,
  head: HeadState,
  batch: ReadonlyMap<number, OpCommitted>,
  mayBeStored: (version: number) => boolean = () => true,
): Promise<{ last: OpForHead; length: number } | undefined> {
  let length = head.length;
  let last: OpForHead | undefined;
  let stored = new Map<number, OpForHead>();
  for (let v = head.version + 1; ; v++) {
    let op: OpForHead | undefined = batch.get(v) ?? stored.get(v);
    if (op === undefined) {
      if (!mayBeStored(v)) break;
      stored = await readStoredOps(ctx, docId, v);
      op = stored.get(v);
      if (op === undefined) break;
    }
    length += lengthDelta(op.op);
    last = op;
  }
  return last === undefined ? undefined : { last, length };
}

async function readStoredOps(ctx: HeadContext, docId: string, from: number): Promise<Map<number, OpForHead>> {
  const found = await opsAscending(ctx, docId, ctx.bucketOf(from), from, from + FILL_CHUNK, FILL_CHUNK);
  return new Map(found.map((op) => [op.version, op]));
}
