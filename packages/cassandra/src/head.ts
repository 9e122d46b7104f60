/**
 * Moving a document's head forward.
 *
 * The head's `length` is the length after its `version`, computed as the previous head's length plus each
 * following op's length change, and only through versions that are all present: with ops 1, 2 and 4 written the
 * head stays at 2 until 3 arrives, then moves to 4 in one step.
 *
 * Every head row ever written is therefore (v, length after v, user and time of op v) for some v: a function of
 * v alone, since op v is one and the same in every copy of the log (one writer per document, a stale one fenced).
 * Two workers racing from different heads (a rebalance, a replay beside the live projector) write rows that are
 * each right; what must not happen is an older one overwriting a newer one. So the head is a plain write whose
 * cell timestamp is derived from its version (`headTimestamp`): Cassandra's last-write-wins keeps the highest
 * version whatever the order the writes land in, a late duplicate of an old write changes nothing, and no read
 * is needed before the write.
 *
 * This replaced a compare-and-set (an LWT `IF version = ?`) in December 2026: a Paxos round is four round trips
 * to a quorum and, at a few ops per batch, was most of Cassandra's CPU per op (docs/performance.md). The
 * timestamps sit above every Paxos ballot (µs since 1970) so the first versioned write wins over a head the LWT
 * wrote — and for the same reason the older compare-and-set code cannot run against heads written this way.
 *
 * `KnownHeads` remembers the heads this store wrote or read, so the next batch of a document starts from there
 * without reading the head: any head once right stays a right starting point (at worst one behind another
 * writer's, which costs a read of the ops in between, never a wrong length).
 */
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
  pageSize: number;
}

/** Ops read per query when the run continues past the batch (ops written earlier, out of order). */
const FILL_CHUNK = 500;

/**
 * 2^52 µs after 1970 is the year 2112: above any Paxos ballot or client clock, and base + version stays an exact
 * integer in a double up to version 2^52.
 */
export const HEAD_TIMESTAMP_BASE = 2 ** 52;
/** The cell timestamp of the head write for `version`: higher versions win, whatever the arrival order. */
export const headTimestamp = (version: number): number => HEAD_TIMESTAMP_BASE + version;

/** Heads this store wrote or read, newest use last; bounded (the oldest are forgotten, then read again). */
export class KnownHeads {
  private readonly heads = new Map<string, HeadState>();

  constructor(private readonly max = 100_000) {}

  get(docId: string): HeadState | undefined {
    return this.heads.get(docId);
  }

  /** Keeps the higher of what is known and `head` (both right: the higher saves more reads). */
  note(docId: string, head: HeadState): void {
    const known = this.heads.get(docId);
    this.heads.delete(docId);
    this.heads.set(docId, known !== undefined && known.version > head.version ? known : head);
    if (this.heads.size > this.max) this.heads.delete(this.heads.keys().next().value as string);
  }
}

/** Moves the head of `docId` over the batch's versions (their rows already written) as far as they run. */
export async function advanceHead(
  ctx: HeadContext,
  known: KnownHeads | undefined,
  docId: string,
  batch: ReadonlyMap<number, OpCommitted>,
): Promise<void> {
  const head = known?.get(docId) ?? (await readHeadState(ctx, docId));
  const run = await consecutiveRun(ctx, docId, head, batch);
  if (run === undefined) {
    known?.note(docId, head);
    return;
  }
  await writeHead(ctx, docId, run.last, run.length);
  known?.note(docId, { exists: true, version: run.last.version, length: run.length });
}

/** The plain head write, last-write-wins by version (see the top of this file). */
export async function writeHead(ctx: HeadContext, docId: string, last: OpForHead, length: number): Promise<void> {
  await ctx.exec.execute(
    ctx.cql.writeHead,
    [docId, last.version, length, last.userId, new Date(last.timestamp), headTimestamp(last.version)],
    'write head',
  );
}

export async function readHeadState(ctx: HeadContext, docId: string): Promise<HeadState> {
  const row = (await ctx.exec.execute(ctx.cql.selectHead, [docId], 'read head')).first();
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
