/**
 * One document's texts and the local ops the server does not have yet, in the ot.js / ShareDB style. Pure: no
 * socket, no timers, no events — DocumentSync drives it and does the talking.
 *
 *   confirmed ──inflight──▶ ──buffer[0]──▶ ──buffer[1]──▶ … ──▶ text
 *
 * - `confirmed` is the server's text at `version` (the last version this client has integrated);
 * - `inflight` is the one op sent and not yet acknowledged (one op in flight per client and document is the
 *   server's contract), with its `seq`;
 * - `buffer` holds the local ops not yet sent. Ordinary typing composes into its last entry, so it is usually
 *   one op, as in ot.js; it becomes a queue only when one op would break the server's size limits (a large paste
 *   is cut into several ops, each sent after the previous one's ack);
 * - `text` is what the user sees: confirmed with every pending op applied. Local edits apply to it at once.
 *
 * A remote op r (from version v-1 to v) is integrated by transforming each pending op p in turn:
 * p' = transform(p, r, 'left'), r' = transform(r, p, 'right'). 'left' for our op because the server transforms
 * an incoming op on the left: a concurrent insert at the same place puts the incoming (= our, not yet sequenced)
 * op first, and both sides must agree. `confirmed` takes r; `text` takes the fully transformed r.
 *
 * Keeping `confirmed` (a persistent rope that shares almost everything with `text`) costs one extra O(log n)
 * apply per remote op and buys: state-hash checks at any version even while edits are pending, and a precise
 * account of the unsent work when the document must be reloaded.
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import type { WireOp } from '@collab/protocol';
import type { OpBudget } from './op-budget.js';
import { fitsBudget, insertedLength, splitOp } from './op-budget.js';

export interface Pending {
  op: TextOp;
  /** Local edits composed into this op (what the pending limit counts). */
  edits: number;
  /** Part of a split op: nothing more is composed into it. */
  sealed: boolean;
  /** For progress events: the split insert it belongs to, and the code points this part inserts. */
  batch?: { sent: number; total: number };
  units: number;
}

export interface Inflight extends Pending {
  seq: number;
  /** The clientId it is sent with (this document's, when it was made). */
  clientId: string;
  /**
   * The user it was first sent as (from the connection's welcome). The server's dedupe key is (user, clientId,
   * seq): our op committed earlier shows up with this user, and under another user it would be a new op.
   */
  sentAs: string | undefined;
  /** Sent on the current connection (cleared when the connection goes, so the reconnect re-sends it). */
  sent: boolean;
  /** Ever sent: the server may have it. */
  everSent: boolean;
  attempts: number;
}

/** Work the user did that the server may not have: enough to download it or redo it by hand. */
export interface UnsentWork {
  docId: string;
  reason: string;
  /** The text as the user last saw it, with every unsent edit applied. */
  localText: string;
  /** The server's text at `baseVersion`, which the ops apply to. */
  baseText: string;
  baseVersion: number;
  /** The unsent ops in order: each applies to the result of the previous one, the first to `baseText`. */
  ops: TextOp[];
  /** Local edits these ops hold. */
  edits: number;
  /** The first op was sent and never acknowledged: the server may have it (it will then show up as a remote op). */
  firstMaybeCommitted: boolean;
}

export class PendingOps {
  confirmed: Doc = type.create('');
  text: Doc = type.create('');
  version = 0;
  inflight: Inflight | null = null;
  readonly buffer: Pending[] = [];
  /** Local edits not yet acknowledged. */
  edits = 0;
  /** The pending limit was reached: no more local edits until the pending work is given up (`discard`). */
  blocked = false;

  /** The ops not yet acknowledged, in order: the in-flight one first. */
  get ops(): TextOp[] {
    return [...(this.inflight === null ? [] : [this.inflight.op]), ...this.buffer.map((p) => p.op)];
  }

  /** Forget everything local and hold `text` at `version` (a load or a reload: nothing may be pending). */
  reset(version: number, text: string): void {
    this.confirmed = type.create(text);
    this.text = this.confirmed;
    this.version = version;
  }

  /** Apply a local edit (already checked to fit `text`) and queue it; returns the text before. */
  applyLocal(op: TextOp, budget: OpBudget): Doc {
    const before = this.text;
    this.text = type.apply(before, op);
    this.enqueue(op, budget);
    this.edits++;
    return before;
  }

  private enqueue(op: TextOp, budget: OpBudget): void {
    const tail = this.buffer[this.buffer.length - 1];
    if (tail !== undefined && !tail.sealed) {
      const composed = type.compose(tail.op, op);
      if (fitsBudget(composed, budget)) {
        tail.op = composed;
        tail.edits++;
        return;
      }
    }
    const parts = splitOp(op, budget);
    if (parts.length === 1) {
      this.buffer.push({ op, edits: 1, sealed: false, units: 0 });
      return;
    }
    const batch = { sent: 0, total: insertedLength(op) };
    parts.forEach((part, i) =>
      this.buffer.push({
        op: part,
        // The edit counts as pending until its last part is acknowledged.
        edits: i === parts.length - 1 ? 1 : 0,
        sealed: true,
        batch,
        units: insertedLength(part),
      }),
    );
  }

  /**
   * The next buffered op to send, as the new in-flight one (`null` when nothing is in flight and nothing waits).
   * An op that transformed into nothing (its deletes were deleted by others) is not worth a version: it is
   * dropped on the way, and `onDropped` hears of it.
   */
  startNext(seq: () => number, clientId: string, onDropped: () => void): Inflight | null {
    if (this.inflight !== null) return null;
    let next = this.buffer.shift();
    while (next !== undefined && next.op.length === 0) {
      this.edits -= next.edits;
      onDropped();
      next = this.buffer.shift();
    }
    if (next === undefined) return null;
    this.inflight = {
      ...next,
      seq: seq(),
      clientId,
      sentAs: undefined,
      sent: false,
      everSent: false,
      attempts: 0,
    };
    return this.inflight;
  }

  /** The in-flight op is committed as `version`: it joins the confirmed text. Returns it. */
  acknowledge(version: number): Inflight {
    const done = this.inflight!;
    this.inflight = null;
    this.confirmed = type.apply(this.confirmed, done.op);
    this.version = version;
    this.edits -= done.edits;
    return done;
  }

  /**
   * Integrate a remote op (from `version` to `wire.version`): every pending op is transformed past it, and it past
   * them. Throws, before anything changes, if it does not fit the confirmed text. Returns the text before and the
   * op as it applies to it.
   */
  integrate(wire: WireOp): { before: Doc; remote: TextOp } {
    const confirmed = type.apply(this.confirmed, wire.op); // throws before anything changes if it does not fit
    let remote = wire.op;
    const pending: Pending[] = this.inflight === null ? this.buffer : [this.inflight, ...this.buffer];
    for (const p of pending) {
      const mine = type.transform(p.op, remote, 'left');
      remote = type.transform(remote, p.op, 'right');
      p.op = mine;
    }
    const before = this.text;
    this.confirmed = confirmed;
    this.text = type.apply(before, remote);
    this.version = wire.version;
    return { before, remote };
  }

  /** Drop every pending op and show the confirmed text again. Returns the text before. */
  discard(): Doc {
    this.inflight = null;
    this.buffer.length = 0;
    this.edits = 0;
    this.blocked = false;
    const before = this.text;
    this.text = this.confirmed;
    return before;
  }

  /** What would be lost if the pending ops were dropped now. */
  unsentWork(docId: string, reason: string): UnsentWork {
    return {
      docId,
      reason,
      localText: this.text.toString(),
      baseText: this.confirmed.toString(),
      baseVersion: this.version,
      ops: this.ops,
      edits: this.edits,
      firstMaybeCommitted: this.inflight?.everSent ?? false,
    };
  }

  /**
   * A committed op is our in-flight one when it carries its dedupe key: the clientId and seq it was sent with, and
   * the user it was sent as (not yet sent on this connection: the user we are now).
   */
  isInflight(wire: WireOp, me: string | undefined): boolean {
    const inflight = this.inflight;
    return (
      inflight !== null &&
      wire.clientId === inflight.clientId &&
      wire.seq === inflight.seq &&
      wire.userId === (inflight.sentAs ?? me)
    );
  }
}
