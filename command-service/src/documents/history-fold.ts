/**
 * The pure part of loading a document and catching a client up: ops read from several sources (snapshot, read
 * models, the log's tail), which may overlap or each hold only part, folded into one gapless sequence — or the
 * place where they do not add up.
 */
import type { DocumentState, OpCommitted, StoredCommentEvent } from '@collab/core';
import { evolve, evolveComment } from '@collab/core';

export interface FoldResult {
  state: DocumentState;
  /** Ops actually folded (versions already held are skipped). */
  folded: number;
  /** Set when an op was not the next version: the fold stopped before it. */
  gap?: { expected: number; got: number };
}

/**
 * A document's comment events waiting to be folded between its ops, in log order: an event decided at version v
 * applies after op v and before op v + 1 (docs/comments.md), so the events at a version are folded as soon as
 * the state reaches it. Built from every source that holds some of them (the read models, the log's tail): the
 * same record read twice (same offset) is folded once.
 */
export class PendingCommentEvents {
  private readonly events: StoredCommentEvent[];
  private next = 0;

  constructor(sources: readonly (readonly StoredCommentEvent[])[] = []) {
    const byOffset = new Map<bigint, StoredCommentEvent>();
    for (const source of sources) for (const stored of source) byOffset.set(stored.offset, stored);
    this.events = [...byOffset.values()].sort(
      (a, b) => a.event.version - b.event.version || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
    );
  }

  /** The version of the first event, if any: a fold must start at or below it to see every event. */
  get firstVersion(): number | undefined {
    return this.events[0]?.event.version;
  }

  /** Events not folded yet: after a complete fold, only events past the last op, which the log cannot hold. */
  get remaining(): number {
    return this.events.length - this.next;
  }

  /** The state with every event decided at its version folded in. Throws for an event the fold went past. */
  foldAt(state: DocumentState): DocumentState {
    let current = state;
    for (; this.next < this.events.length; this.next++) {
      const { event } = this.events[this.next]!;
      if (event.version > current.version) break;
      if (event.version < current.version) {
        throw new Error(`${state.docId}: the fold started at ${state.version}, past a comment at ${event.version}`);
      }
      current = evolveComment(current, event);
    }
    return current;
  }
}

/**
 * Fold `ops` (version order, any overlap with what `state` holds) into `state`: versions at or below the state's
 * are skipped — the same op read from two sources —, the next version is folded, anything further is a gap and
 * stops the fold. Ops of other documents are ignored. With `events`, the comment events are folded between the
 * ops, each at its version (at the state's version too, before the first op).
 */
export function foldNewOps(
  state: DocumentState,
  ops: Iterable<OpCommitted>,
  window: number,
  events?: PendingCommentEvents,
): FoldResult {
  let current = events === undefined ? state : events.foldAt(state);
  let folded = 0;
  for (const op of ops) {
    if (op.docId !== state.docId || op.version <= current.version) continue;
    if (op.version !== current.version + 1) {
      return { state: current, folded, gap: { expected: current.version + 1, got: op.version } };
    }
    current = evolve(current, op, window);
    if (events !== undefined) current = events.foldAt(current);
    folded++;
  }
  return { state: current, folded };
}

/**
 * The ops with from <= version <= to out of several sources (each in version order; they may overlap or each
 * hold only part), gapless and in version order; undefined if any version in the range is in none of them.
 */
export function collectRange(
  from: number,
  to: number,
  sources: readonly (readonly OpCommitted[])[],
): OpCommitted[] | undefined {
  if (to < from) return [];
  const byVersion = new Map<number, OpCommitted>();
  for (const source of sources) {
    for (const op of source) {
      if (op.version >= from && op.version <= to && !byVersion.has(op.version)) byVersion.set(op.version, op);
    }
  }
  const out: OpCommitted[] = [];
  for (let v = from; v <= to; v++) {
    const op = byVersion.get(v);
    if (op === undefined) return undefined;
    out.push(op);
  }
  return out;
}

/** The leading run of `ops` (version order) that goes up from version `from` without a gap. */
export function contiguousFrom(from: number, ops: readonly OpCommitted[]): OpCommitted[] {
  const out: OpCommitted[] = [];
  for (const op of ops) {
    if (op.version < from + out.length) continue; // a duplicate, or before the range
    if (op.version !== from + out.length) break;
    out.push(op);
  }
  return out;
}

/**
 * The highest snapshot version a load may start from so that the ops folded after it fill the window: the last
 * version known (the read models' head or the tail's last op, whichever is higher) minus the window.
 */
export function snapshotBound(lastKnown: number, window: number): number {
  return Math.max(0, lastKnown - window);
}
