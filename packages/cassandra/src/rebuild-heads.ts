/**
 * headMode 'rebuild': moving heads without the LWT chain, for a rebuild into a FRESH keyspace only.
 *
 * The default head step (head.ts) reads the head (unless this store knows it), and reads past the batch end for
 * ops stored out of order by another worker (a rebalance, a replay next to the live projector). A rebuild into a
 * keyspace it has just created has no such other worker: nothing but this store instance writes there. Then this
 * store can know, in memory, everything the head step would otherwise ask Cassandra for:
 *
 * - the head of every document it has written (it wrote them), and that a document it has never seen has no
 *   head and no rows (the keyspace was empty) — so no head read;
 * - the highest version it has sent to the table for each document (noted BEFORE the rows are sent) — so the
 *   read past the batch end is needed only if a later version may be stored (gaps filled out of order);
 * - its head steps for one document never interleave: they are serialized per document here (the replay never
 *   runs two calls for one document at once anyway).
 *
 * The head is still only moved over consecutive versions (the same walk as head.ts), after every row is written,
 * with the same versioned plain write (head.ts: headTimestamp).
 *
 * Why only a FRESH keyspace: with another writer, "never seen means empty" is false (the head and rows exist,
 * written by someone else). The projection-service's rebuild creates the keyspace and refuses an existing one;
 * nothing else may use this mode.
 *
 * Whenever this store is unsure — a writeOps call failed (a head write may or may not have landed), or the
 * tracker had to drop entries to bound its memory — it stops trusting absence: documents it does not track go
 * through a head read and the reads past the batch end, as in the default path, still with a plain write.
 */
import type { OpCommitted } from '@collab/core';

import type { HeadContext, HeadState } from './head.js';
import { consecutiveRun, readHeadState, writeHead } from './head.js';

interface Tracked {
  head: HeadState;
  /** Highest version sent to the ops table by this store (Infinity: unknown, always read past the batch). */
  written: number;
}

/** Documents tracked before the oldest entries are dropped (about 150 bytes each). */
export const DEFAULT_MAX_TRACKED_DOCUMENTS = 200_000;

export class RebuildHeads {
  private readonly tracked = new Map<string, Tracked>();
  private readonly locks = new Map<string, Promise<void>>();
  /** True while every document this store has not tracked is known to have no rows and no head. */
  private trustAbsence = true;

  constructor(private readonly maxTracked = DEFAULT_MAX_TRACKED_DOCUMENTS) {}

  /** Called before a call's rows are sent. */
  noteWrites(byDoc: ReadonlyMap<string, ReadonlyMap<number, OpCommitted>>): void {
    for (const [docId, versions] of byDoc) {
      let max = 0;
      for (const v of versions.keys()) if (v > max) max = v;
      const entry = this.tracked.get(docId);
      if (entry !== undefined) entry.written = Math.max(entry.written, max);
      else if (this.trustAbsence) this.track(docId, { head: { exists: false, version: 0, length: 0 }, written: max });
    }
  }

  /** A call failed: its documents' heads may or may not have moved; read them back from now on. */
  forget(docIds: Iterable<string>): void {
    for (const docId of docIds) this.tracked.delete(docId);
    this.trustAbsence = false;
  }

  get(docId: string): Tracked | undefined {
    return this.tracked.get(docId);
  }

  /** After a head write (or a head read from the table): what the table now holds. */
  setHead(docId: string, head: HeadState): void {
    const entry = this.tracked.get(docId);
    if (entry !== undefined) entry.head = head;
    else this.track(docId, { head, written: Infinity });
  }

  /** Runs `fn` after every earlier `fn` for the same document has settled. */
  async serialize<T>(docId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(docId) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.locks.set(docId, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(docId) === tail) this.locks.delete(docId);
    }
  }

  private track(docId: string, entry: Tracked): void {
    this.tracked.set(docId, entry);
    if (this.tracked.size > this.maxTracked) {
      const oldest = this.tracked.keys().next().value as string;
      this.tracked.delete(oldest);
      this.trustAbsence = false;
    }
  }
}

/** The head step of headMode 'rebuild' (rows of the call already written). */
export async function advanceHeadForRebuild(
  ctx: HeadContext,
  heads: RebuildHeads,
  docId: string,
  batch: ReadonlyMap<number, OpCommitted>,
): Promise<void> {
  await heads.serialize(docId, async () => {
    const known = heads.get(docId);
    const head = known?.head ?? (await readHeadState(ctx, docId));
    const run = await consecutiveRun(ctx, docId, head, batch, (v) => {
      const entry = heads.get(docId);
      return entry === undefined || v <= entry.written;
    });
    if (run === undefined) {
      if (known === undefined) heads.setHead(docId, head);
      return;
    }
    const { last, length } = run;
    await writeHead(ctx, docId, last, length);
    heads.setHead(docId, { exists: true, version: last.version, length });
  });
}
