/**
 * One document's synchronisation state machine, in the ot.js / ShareDB style, independent of any socket.
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
 *
 * The machine talks to the outside only through `SyncHost` (send a message, schedule a retry) and its events; the
 * connection tells it when it is up (`connected`) or gone (`disconnected`), and feeds it this document's messages
 * (`receive`).
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import type { Utf16Change } from './changes.js';
import { utf16Changes } from './changes.js';
import { Emitter } from './emitter.js';
import type { PresenceOptions, RemoteUser } from './presence.js';
import { DocumentPresence } from './presence.js';
import { CollabClientError } from './errors.js';
import type { OpBudget } from './op-budget.js';
import { DEFAULT_BUDGET, fitsBudget, insertedLength, splitOp } from './op-budget.js';
import { PartsAssembler } from './parts.js';
import type { ClientMessage, ErrorMessage, ResyncCause, ServerMessage, WireOp } from '@collab/protocol';
import { AUTH_CODES, CLIENT_ID_TAKEN, RETRIABLE_CODES } from '@collab/protocol';
import { stateHash } from '@collab/protocol';

export interface SyncHost {
  readonly clientId: string;
  /** The next seq for this document: increases forever, across reconnects, re-opens and new clientIds. */
  nextSeq(): number;
  /**
   * A fresh random clientId, for when the server says another user's ops carry ours (ERR_CLIENT_ID_TAKEN).
   * Absent: that error is final, like any other refusal of an op.
   */
  newClientId?(): string;
  /** Send a message on the current connection (only called while connected). */
  send(message: ClientMessage): void;
  /** Run `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
  /** Our user id once welcomed (presence: our own ops push our cursors). */
  userId?(): string | undefined;
  /** Clock for the presence throttle; default Date.now. */
  now?(): number;
}

export interface SyncOptions {
  /** Local edits that may wait unsent before the document stops taking edits (default 1000). */
  maxPending?: number;
  /** Size limits for one op (set from the server's welcome by the connection). */
  budget?: OpBudget;
  /** Re-send an `open` that has had no answer for this long (default 15 s). */
  openTimeoutMs?: number;
  /** Delay before re-sending an op after a retriable error without `retryAfterMs` (doubles per attempt). */
  retryBaseMs?: number;
  /** Compute the state hash (tests inject a wrong one to force a mismatch). */
  hash?: (text: string) => string;
  /** Our name/colour for others, and how often cursor updates go out. */
  presence?: PresenceOptions;
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

export interface ChangeEvent {
  /** 'local': this client's own edit (already in the editor); 'remote': someone else's; 'reload': text replaced. */
  source: 'local' | 'remote' | 'reload';
  /** The change in code points, as an op on the text before it. */
  op: TextOp;
  /** The same change in UTF-16 ranges of the text before it. */
  changes: Utf16Change[];
  version: number;
  /** Who made a remote change. */
  userId?: string;
}

export interface SyncEvents {
  change: ChangeEvent;
  /** The server acknowledged our op `seq` as `version`. */
  ack: { seq: number; version: number };
  /** Local edits waiting for their ack changed. */
  pending: { count: number };
  /** A split (large) insert progresses: code points acknowledged of those inserted. */
  progress: { sent: number; total: number };
  /** Unsent work had to be taken out of the document (reload, rejected op). Never dropped silently. */
  unsent: UnsentWork;
  /** Too many edits are pending: the document takes no more until `reload()`. Offer `work` for download. */
  'pending-limit': { limit: number; work: UnsentWork };
  /** The document is being reloaded from the server. */
  resync: { reason: string };
  /** A server error about this document (an op it rejected, an open it refused). */
  error: { code: string; message: string; seq?: number; retriable: boolean };
  /** The first snapshot arrived. */
  load: { version: number };
  /** The document reached a state hash check: `ok` false means it diverged and is being reloaded. */
  hash: { version: number; ok: boolean };
  /** Everyone else in the document, cursors in the local text (UTF-16): after every change of who or where. */
  presence: { users: RemoteUser[] };
}

interface Pending {
  op: TextOp;
  /** Local edits composed into this op (what the pending limit counts). */
  edits: number;
  /** Part of a split op: nothing more is composed into it. */
  sealed: boolean;
  /** For progress events: the split insert it belongs to, and the code points this part inserts. */
  batch?: { sent: number; total: number };
  units: number;
}

interface Inflight extends Pending {
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

export class DocumentSync {
  readonly events = new Emitter<SyncEvents>();
  private confirmedDoc: Doc = type.create('');
  private textDoc: Doc = type.create('');
  private versionNumber = 0;
  private inflightOp: Inflight | null = null;
  private readonly buffer: Pending[] = [];
  private pendingEdits = 0;

  private loaded = false;
  private online = false;
  /** An `open` is outstanding: live messages wait in `deferred` until its answer (snapshot or catch-up) lands. */
  private opening = false;
  private deferred: ServerMessage[] = [];
  /** A snapshot or catch-up arriving in parts. */
  private readonly parts = new PartsAssembler();
  /** The next open must ask for the whole text (a resync was requested while offline). */
  private wantFresh = false;
  private blocked = false;
  private closed = false;
  private pendingHash: { version: number; hash: string } | undefined;
  /** Why the open in progress reloads the document, when the client found a problem itself (told to the server). */
  private resyncCause: ResyncCause | undefined;
  /** Counts opens requested: an answer being processed stops if processing it asked for another open. */
  private openRequests = 0;
  private cancelOpenTimer: (() => void) | undefined;
  private readonly retryTimers = new Set<() => void>();
  /** The clientId of this document's ops: the connection's, until the server says another user's ops carry it. */
  private clientId: string;

  private budget: OpBudget;
  private readonly maxPending: number;
  private readonly openTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly hash: (text: string) => string;
  readonly presence: DocumentPresence;

  constructor(
    readonly docId: string,
    private readonly host: SyncHost,
    options: SyncOptions = {},
  ) {
    this.clientId = host.clientId;
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.maxPending = options.maxPending ?? 1000;
    this.openTimeoutMs = options.openTimeoutMs ?? 15_000;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.hash = options.hash ?? stateHash;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the presence host reads live state
    const sync = this;
    this.presence = new DocumentPresence(
      {
        docId,
        get confirmed() {
          return sync.confirmedDoc;
        },
        get text() {
          return sync.textDoc;
        },
        get version() {
          return sync.versionNumber;
        },
        get isLive() {
          return sync.isLive;
        },
        pendingOps: () => [...(sync.inflightOp === null ? [] : [sync.inflightOp.op]), ...sync.buffer.map((p) => p.op)],
        userId: () => host.userId?.(),
        send: (message) => host.send(message),
        schedule: (ms, fn) => host.schedule(ms, fn),
        now: () => host.now?.() ?? Date.now(),
        changed: () => {
          if (sync.events.listenerCount('presence') > 0) sync.events.emit('presence', { users: sync.presence.users() });
        },
      },
      options.presence,
    );
  }

  // ---- state -------------------------------------------------------------------------------------------------

  get text(): Doc {
    return this.textDoc;
  }
  /** The server's text at `version`. */
  get confirmed(): Doc {
    return this.confirmedDoc;
  }
  get version(): number {
    return this.versionNumber;
  }
  get inflight(): { op: TextOp; seq: number } | null {
    return this.inflightOp === null ? null : { op: this.inflightOp.op, seq: this.inflightOp.seq };
  }
  /** The unsent ops after the in-flight one (usually zero or one; more only for a split op). */
  get buffered(): TextOp[] {
    return this.buffer.map((p) => p.op);
  }
  /** Local edits not yet acknowledged. */
  get pendingCount(): number {
    return this.pendingEdits;
  }
  get isLoaded(): boolean {
    return this.loaded;
  }
  get isBlocked(): boolean {
    return this.blocked;
  }
  /** Loaded, connected, not re-opening: ops flow. */
  get isLive(): boolean {
    return this.loaded && this.online && !this.opening && !this.closed;
  }

  setBudget(budget: OpBudget): void {
    this.budget = budget;
  }

  // ---- local edits -------------------------------------------------------------------------------------------

  /** Apply a local edit (code points) at once and queue it for the server. Throws if the op does not fit. */
  applyLocal(op: TextOp): void {
    if (this.closed) throw new CollabClientError('ERR_CLOSED', `Document ${this.docId} is closed.`);
    if (!this.loaded) throw new CollabClientError('ERR_NOT_LOADED', `Document ${this.docId} is not loaded yet.`);
    if (this.blocked) {
      throw new CollabClientError(
        'ERR_PENDING_LIMIT',
        `${this.pendingEdits} edits to ${this.docId} are waiting to be sent; reload the document to continue.`,
      );
    }
    try {
      type.checkOp(op, this.textDoc);
    } catch (err) {
      throw new CollabClientError('ERR_RANGE', `The edit does not fit document ${this.docId}.`, false, { cause: err });
    }
    if (op.length === 0) return;
    const before = this.textDoc;
    this.textDoc = type.apply(before, op);
    this.enqueue(op);
    this.pendingEdits++;
    this.events.emit('change', {
      source: 'local',
      op,
      changes: utf16Changes(before, op),
      version: this.versionNumber,
    });
    this.presence.textChanged(op, this.host.userId?.(), true);
    this.emitPending();
    if (this.pendingEdits >= this.maxPending) {
      // Stop here rather than grow without bound: memory, and a merge the user could not follow. The pending ops
      // still go out if the connection returns; new edits wait for a reload.
      this.blocked = true;
      this.events.emit('pending-limit', { limit: this.maxPending, work: this.unsentWork('pending limit reached') });
    }
    this.flush();
  }

  private enqueue(op: TextOp): void {
    const tail = this.buffer[this.buffer.length - 1];
    if (tail !== undefined && !tail.sealed) {
      const composed = type.compose(tail.op, op);
      if (fitsBudget(composed, this.budget)) {
        tail.op = composed;
        tail.edits++;
        return;
      }
    }
    const parts = splitOp(op, this.budget);
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

  /** Send the next buffered op if nothing is in flight. */
  private flush(): void {
    if (!this.isLive || this.inflightOp !== null) return;
    let next = this.buffer.shift();
    // An op that transformed into nothing (its deletes were deleted by others) is not worth a version.
    while (next !== undefined && next.op.length === 0) {
      this.pendingEdits -= next.edits;
      this.emitPending();
      next = this.buffer.shift();
    }
    if (next === undefined) return;
    this.inflightOp = {
      ...next,
      seq: this.host.nextSeq(),
      clientId: this.clientId,
      sentAs: undefined,
      sent: false,
      everSent: false,
      attempts: 0,
    };
    this.sendInflight();
  }

  private sendInflight(): void {
    const inflight = this.inflightOp;
    if (inflight === null || !this.isLive) return;
    const me = this.host.userId?.();
    if (inflight.everSent && inflight.sentAs !== me) {
      // Sent as another user (the token changed hands) and not seen committed: the server may have it under that
      // user, and a resend as us would be a second copy. Hand it and what follows to the user instead.
      this.discardPending(`signed in as ${me ?? 'nobody'}, not ${inflight.sentAs ?? 'nobody'}`, true);
      this.requestOpen(true);
      return;
    }
    inflight.sent = true;
    inflight.everSent = true;
    inflight.sentAs = me;
    // The op has been transformed through every remote op integrated since it was made: it applies to `version`.
    // Deletes go out as counts: the server needs no deleted text, and limits the text an op carries.
    this.host.send({
      t: 'submit',
      docId: this.docId,
      clientId: inflight.clientId,
      seq: inflight.seq,
      baseVersion: this.versionNumber,
      op: type.stripInvertible(inflight.op),
    });
  }

  // ---- connection --------------------------------------------------------------------------------------------

  /** The connection is up (authenticated): open, or re-open from the last integrated version to catch up. */
  connected(): void {
    if (this.closed) return;
    this.online = true;
    this.requestOpen(this.wantFresh || !this.loaded);
  }

  /** The connection is gone: keep everything, send nothing; whatever was in flight is re-sent after re-opening. */
  disconnected(): void {
    this.presence.disconnected();
    this.online = false;
    this.opening = false;
    this.deferred = [];
    this.parts.reset();
    if (this.inflightOp !== null) this.inflightOp.sent = false;
    this.stopOpenTimer();
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
  }

  close(): void {
    if (this.closed) return;
    if (this.pendingEdits > 0 || this.inflightOp !== null) this.events.emit('unsent', this.unsentWork('closed'));
    this.closed = true;
    this.disconnected();
    this.presence.close();
  }

  /** Give up the unsent work (reported in an 'unsent' event) and reload the document from the server. */
  reload(reason = 'reload requested'): void {
    this.discardPending(reason, true);
    this.requestOpen(true, 'reload');
  }

  /**
   * A message may have been dropped (the server rate-limited a frame without saying which): repeat whatever is
   * waiting for an answer. Safe because opens are idempotent and a re-sent op keeps its seq.
   */
  nudge(): void {
    if (!this.online || this.closed) return;
    if (this.opening) this.sendOpen(this.wantFresh || !this.loaded);
    else if (this.inflightOp !== null) this.sendInflight();
    else this.flush();
  }

  private requestOpen(fresh: boolean, cause?: ResyncCause): void {
    if (cause !== undefined) this.resyncCause = cause;
    if (!this.online) {
      this.wantFresh ||= fresh;
      return;
    }
    this.openRequests++;
    this.opening = true;
    this.wantFresh = fresh;
    this.sendOpen(fresh);
  }

  private sendOpen(fresh: boolean): void {
    const cause = this.resyncCause;
    this.host.send(
      fresh
        ? { t: 'open', docId: this.docId, ...(cause === undefined ? {} : { resync: cause }) }
        : { t: 'open', docId: this.docId, version: this.versionNumber },
    );
    this.armOpenTimer();
  }

  /** An answer can be lost (a frame the server dropped under load): ask again rather than wait forever. */
  private armOpenTimer(): void {
    this.stopOpenTimer();
    this.cancelOpenTimer = this.host.schedule(this.openTimeoutMs, () => {
      this.cancelOpenTimer = undefined;
      if (this.opening && this.online) this.sendOpen(this.wantFresh || !this.loaded);
    });
  }

  private stopOpenTimer(): void {
    this.cancelOpenTimer?.();
    this.cancelOpenTimer = undefined;
  }

  // ---- server messages ---------------------------------------------------------------------------------------

  receive(message: ServerMessage): void {
    if (this.closed) return;
    switch (message.t) {
      case 'snapshot':
        return this.onSnapshot(message.version, message.text);
      case 'catchup':
        return this.onCatchup(message.version, message.ops);
      case 'snapshot-part':
      case 'catchup-part': {
        const whole = this.parts.add(message);
        if (whole !== undefined) return this.receive(whole);
        // A large answer is arriving: it is not lost, so the open timer waits for the next part.
        if (this.opening && this.parts.busy) this.armOpenTimer();
        return;
      }
      case 'resync':
        return this.onResync(message.reason);
      case 'error':
        return this.onError(message);
      case 'closed':
        if (message.reason !== undefined) this.closedByServer(message.reason, message.message);
        return;
      case 'op':
      case 'ack':
      case 'hash':
      case 'presence':
      case 'presence-leave':
        // Until the answer to our open lands, live messages may be ahead of what we hold: keep them in order.
        if (this.opening || !this.loaded) {
          this.deferred.push(message);
          return;
        }
        if (message.t === 'op') return this.onRemote(message);
        if (message.t === 'presence' || message.t === 'presence-leave') return this.presence.receive(message);
        if (message.t === 'ack') return this.onAck(message.seq, message.version);
        return this.onHash(message.version, message.hash);
      default:
        return;
    }
  }

  onAck(seq: number, version: number): void {
    const inflight = this.inflightOp;
    // Not our current op: a duplicate ack (a re-sent op answered again) or one from before a reload.
    if (inflight === null || seq !== inflight.seq) return;
    if (version === this.versionNumber + 1) return this.acknowledge(version);
    if (version > this.versionNumber + 1) {
      // We missed ops before ours: catch up (the catch-up holds our op too, and counts as its ack).
      return this.requestOpen(false);
    }
    // The server says our op is in a version we already hold without it: we can no longer trust our text.
    this.resync(
      `ack for seq ${seq} at version ${version}, but this client is at version ${this.versionNumber}`,
      'inconsistent',
    );
  }

  private acknowledge(version: number): void {
    const done = this.inflightOp!;
    this.inflightOp = null;
    this.confirmedDoc = type.apply(this.confirmedDoc, done.op);
    this.versionNumber = version;
    this.pendingEdits -= done.edits;
    this.presence.confirmed(version, done.op, this.host.userId?.(), true);
    this.events.emit('ack', { seq: done.seq, version });
    if (done.batch !== undefined) {
      done.batch.sent += done.units;
      this.events.emit('progress', { sent: done.batch.sent, total: done.batch.total });
    }
    this.emitPending();
    this.checkHash();
    this.flush();
  }

  onRemote(wire: WireOp & { docId?: string }): void {
    if (wire.version <= this.versionNumber) return; // already integrated (a duplicate delivery)
    if (wire.version > this.versionNumber + 1) return this.requestOpen(false); // a gap: catch up
    const inflight = this.inflightOp;
    if (inflight !== null && isOurs(wire, inflight, this.host.userId?.())) {
      // Our own op, committed from an earlier connection (or seen in a catch-up): that is its ack.
      return this.acknowledge(wire.version);
    }
    try {
      this.integrate(wire);
    } catch (err) {
      // A remote op that does not fit our confirmed text: we have diverged.
      this.resync(`remote op ${wire.version} does not apply: ${(err as Error).message}`, 'inconsistent');
    }
  }

  private integrate(wire: WireOp): void {
    const confirmed = type.apply(this.confirmedDoc, wire.op); // throws before anything changes if it does not fit
    let remote = wire.op;
    const pending: Pending[] = this.inflightOp === null ? this.buffer : [this.inflightOp, ...this.buffer];
    for (const p of pending) {
      const mine = type.transform(p.op, remote, 'left');
      remote = type.transform(remote, p.op, 'right');
      p.op = mine;
    }
    const before = this.textDoc;
    this.confirmedDoc = confirmed;
    this.textDoc = type.apply(before, remote);
    this.versionNumber = wire.version;
    this.events.emit('change', {
      source: 'remote',
      op: remote,
      changes: utf16Changes(before, remote),
      version: wire.version,
      userId: wire.userId,
    });
    // Cursors follow the text first; then cursors waiting for this version can be placed.
    this.presence.textChanged(remote, wire.userId, false);
    this.presence.confirmed(wire.version, wire.op, wire.userId, false);
    this.checkHash();
  }

  onHash(version: number, hash: string): void {
    if (version < this.versionNumber) return; // we are past it: too late to compare
    this.pendingHash = { version, hash };
    this.checkHash();
  }

  /** Compare a remembered hash once we hold exactly its version (the confirmed text, pending edits or not). */
  private checkHash(): void {
    const expected = this.pendingHash;
    if (expected === undefined || expected.version > this.versionNumber) return;
    this.pendingHash = undefined;
    if (expected.version < this.versionNumber) return;
    const ok = this.hash(this.confirmedDoc.toString()) === expected.hash;
    this.events.emit('hash', { version: expected.version, ok });
    if (!ok) this.resync(`state hash mismatch at version ${expected.version}`, 'hash_mismatch');
  }

  onSnapshot(version: number, text: string): void {
    if (!this.loaded) {
      this.confirmedDoc = type.create(text);
      this.textDoc = this.confirmedDoc;
      this.versionNumber = version;
      this.loaded = true;
      this.events.emit('load', { version });
      return this.opened();
    }
    if (version === this.versionNumber && text === this.confirmedDoc.toString()) {
      // Nothing happened since our version: like an empty catch-up, the pending edits carry on.
      return this.opened();
    }
    // Our pending ops are based on a version whose successors we cannot see: they cannot be carried over.
    // If an ack for the in-flight op is waiting in `deferred` at or before this version, the snapshot holds it.
    const inflight = this.inflightOp;
    const ackedInSnapshot =
      inflight !== null && this.deferred.some((m) => m.t === 'ack' && m.seq === inflight.seq && m.version <= version);
    if (ackedInSnapshot) {
      // Not unsent work: the buffered ops that remain apply after it, so it joins the base of the report.
      this.inflightOp = null;
      this.pendingEdits -= inflight.edits;
      this.confirmedDoc = type.apply(this.confirmedDoc, inflight.op);
    }
    const before = this.textDoc;
    this.discardPending(`reloaded at version ${version}`, !ackedInSnapshot, false);
    this.confirmedDoc = type.create(text);
    this.textDoc = this.confirmedDoc;
    this.versionNumber = version;
    this.pendingHash = undefined;
    this.emitReload(before);
    this.opened();
  }

  onCatchup(version: number, ops: readonly WireOp[]): void {
    if (!this.loaded) return this.requestOpen(true); // a catch-up for a document we never loaded: ask for the text
    const request = this.openRequests;
    for (const wire of ops) {
      if (wire.version <= this.versionNumber) continue;
      if (wire.version !== this.versionNumber + 1) break;
      this.onRemote(wire);
      if (this.openRequests !== request) return; // that op made us ask for a reload; its answer takes over
    }
    if (this.versionNumber !== version) {
      return this.resync(`catch-up to ${version} left this client at ${this.versionNumber}`, 'inconsistent');
    }
    this.opened();
  }

  onResync(reason: string): void {
    if (this.opening) {
      // The answer to our open: the server follows a resync with the snapshot. Should it not, the open timer
      // asks again, for the whole text this time.
      this.wantFresh = true;
      this.events.emit('resync', { reason: `server: ${reason}` });
      return;
    }
    this.resync(`server: ${reason}`);
  }

  /** Reload the document; `cause` tells the server why when the client found the problem itself. */
  private resync(reason: string, cause?: ResyncCause): void {
    this.events.emit('resync', { reason });
    this.requestOpen(true, cause);
  }

  /** The answer to our open landed: replay what waited, then re-send what the server may not have. */
  private opened(): void {
    this.opening = false;
    this.wantFresh = false;
    this.resyncCause = undefined;
    this.stopOpenTimer();
    const deferred = this.deferred;
    this.deferred = [];
    for (const m of deferred) this.receive(m); // may start another open, which defers the rest again
    if (!this.isLive) return;
    this.presence.opened();
    // Same seq as before: if the server already has it, it answers with the original ack and commits nothing.
    if (this.inflightOp !== null && !this.inflightOp.sent) this.sendInflight();
    this.flush();
  }

  /**
   * The server closed the document on this connection (the token lost its grant, expired, or a new auth failed):
   * nothing more comes for it. Keep everything, as when the connection goes; the next connection re-opens it
   * (with whatever token it has then) and re-sends what is in flight.
   */
  private closedByServer(code: string, message: string | undefined): void {
    this.disconnected();
    this.events.emit('error', {
      code,
      message: message ?? `The server closed document ${this.docId} (${code}).`,
      retriable: AUTH_CODES.has(code),
    });
  }

  private onError(error: ErrorMessage): void {
    const retriable = error.retriable || RETRIABLE_CODES.has(error.code);
    const inflight = this.inflightOp;
    if (error.seq !== undefined) {
      if (inflight === null || error.seq !== inflight.seq) return; // about an op we no longer hold
      if (error.code === CLIENT_ID_TAKEN && this.host.newClientId !== undefined) {
        // Another user's ops carry our clientId (copied from a broadcast). Ours was not committed (the server
        // answers a resubmission before it checks this), so it goes again under a new id of this document's.
        this.clientId = this.host.newClientId();
        inflight.clientId = this.clientId;
        inflight.sent = false;
        this.events.emit('error', { code: error.code, message: error.message, seq: error.seq, retriable: true });
        this.sendInflight();
        return;
      }
      if (retriable) {
        inflight.sent = false;
        const delay = error.retryAfterMs ?? Math.min(this.retryBaseMs * 2 ** inflight.attempts, 30_000);
        inflight.attempts++;
        this.later(delay, () => {
          if (this.inflightOp === inflight && !inflight.sent) this.sendInflight();
        });
        return;
      }
      this.events.emit('error', { code: error.code, message: error.message, seq: error.seq, retriable });
      // The server refused the op for good. Re-sending would fail again, and the ops after it were made on top of
      // it: hand all of them to the user and reload.
      this.discardPending(`rejected by the server: ${error.code}`, false);
      this.requestOpen(true);
      return;
    }
    this.events.emit('error', { code: error.code, message: error.message, retriable });
    if (retriable) this.later(error.retryAfterMs ?? this.retryBaseMs, () => this.nudge());
    else if (this.opening) {
      // The open was refused (forbidden, too many documents): stop asking; the owner decides what to do.
      this.stopOpenTimer();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  /** Take every unsent op out of the document, report it, and show the confirmed text again. */
  private discardPending(reason: string, firstMaybeCommitted: boolean, showConfirmed = true): void {
    if (this.inflightOp !== null || this.buffer.length > 0) {
      const work = this.unsentWork(reason);
      work.firstMaybeCommitted = firstMaybeCommitted && this.inflightOp !== null && this.inflightOp.everSent;
      this.events.emit('unsent', work);
    }
    this.inflightOp = null;
    this.buffer.length = 0;
    this.pendingEdits = 0;
    this.blocked = false;
    const before = this.textDoc;
    this.textDoc = this.confirmedDoc;
    if (showConfirmed && before !== this.textDoc) this.emitReload(before);
    this.emitPending();
  }

  unsentWork(reason: string): UnsentWork {
    const ops = this.inflightOp === null ? [] : [this.inflightOp.op];
    for (const p of this.buffer) ops.push(p.op);
    return {
      docId: this.docId,
      reason,
      localText: this.textDoc.toString(),
      baseText: this.confirmedDoc.toString(),
      baseVersion: this.versionNumber,
      ops,
      edits: this.pendingEdits,
      firstMaybeCommitted: this.inflightOp?.everSent ?? false,
    };
  }

  private emitReload(before: Doc): void {
    const op: TextOp = type.normalize([{ d: before.length }, this.textDoc.toString()]);
    this.events.emit('change', {
      source: 'reload',
      op,
      changes: utf16Changes(before, op),
      version: this.versionNumber,
    });
    this.presence.reset();
  }

  private emitPending(): void {
    this.events.emit('pending', { count: this.pendingEdits });
  }

  private later(delayMs: number, fn: () => void): void {
    const cancel = this.host.schedule(delayMs, () => {
      this.retryTimers.delete(cancel);
      fn();
    });
    this.retryTimers.add(cancel);
  }
}

/**
 * A committed op is our in-flight one when it carries its dedupe key: the clientId and seq it was sent with, and
 * the user it was sent as (not yet sent on this connection: the user we are now).
 */
function isOurs(wire: WireOp, inflight: Inflight, me: string | undefined): boolean {
  return wire.clientId === inflight.clientId && wire.seq === inflight.seq && wire.userId === (inflight.sentAs ?? me);
}
