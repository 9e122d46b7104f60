/**
 * One document's synchronisation with the server, in the ot.js / ShareDB style, independent of any socket.
 *
 * Its state is pure and lives apart: the texts and the pending ops (confirmed ──inflight──▶ buffer ──▶ text) in
 * `PendingOps` (pending-ops.ts, where the OT scheme is described), and where the document stands with the server
 * in one `Phase` (sync-phase.ts: offline, opening, live or closed). This class is the I/O around them: what goes
 * to the server, what comes back, timers and events.
 *
 * The machine talks to the outside only through `SyncHost` (send a message, schedule a retry) and its events; the
 * connection tells it when it is up (`connected`) or gone (`disconnected`), and feeds it this document's messages
 * (`receive`).
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import { utf16Changes } from './changes.js';
import { Emitter } from './emitter.js';
import { DocumentPresence } from './presence.js';
import { DocumentComments } from './document-comments.js';
import { CollabClientError } from './errors.js';
import type { OpBudget } from './op-budget.js';
import { DEFAULT_BUDGET } from './op-budget.js';
import { OpenHandshake } from './open-handshake.js';
import type { ErrorMessage, ResyncCause, ServerMessage, WireOp } from '@collab/protocol';
import { AUTH_CODES, CLIENT_ID_TAKEN, RETRIABLE_CODES } from '@collab/protocol';
import { stateHash } from '@collab/protocol';
import type { UnsentWork } from './pending-ops.js';
import type { SyncEvents, SyncHost, SyncOptions } from './sync-contract.js';
import { PendingOps } from './pending-ops.js';
import type { Phase } from './sync-phase.js';
import {
  answered,
  CLOSED,
  disconnected,
  INITIAL_PHASE,
  isOnline,
  opening,
  openRequested,
  wantsFresh,
} from './sync-phase.js';

export type { UnsentWork };
export type { ChangeEvent, SyncEvents, SyncHost, SyncOptions } from './sync-contract.js';

/** Open timeouts in a row, with nothing of the answer arriving, before the connection is given up for a new one. */
const OPEN_TIMEOUTS_BEFORE_RECONNECT = 3;

export class DocumentSync {
  readonly events = new Emitter<SyncEvents>();
  /** The texts, the version, and what the server does not have yet. */
  private readonly ops = new PendingOps();
  private phase: Phase = INITIAL_PHASE;
  /** The first snapshot has arrived (until then there is no text to edit). */
  private loaded = false;
  /** The open in progress, and the messages that wait for its answer. */
  private readonly open: OpenHandshake;
  /** A state hash the server sent for a version we do not hold yet. */
  private pendingHash: { version: number; hash: string } | undefined;
  private readonly retryTimers = new Set<() => void>();
  /** The clientId of this document's ops: the connection's, until the server says another user's ops carry it. */
  private clientId: string;

  private budget: OpBudget;
  private readonly maxPending: number;
  private readonly retryBaseMs: number;
  private readonly hash: (text: string) => string;
  readonly presence: DocumentPresence;
  readonly comments: DocumentComments;
  /** For comment ids when the host has no random ids. */
  private commentIds = 0;

  constructor(
    readonly docId: string,
    private readonly host: SyncHost,
    options: SyncOptions = {},
  ) {
    this.clientId = host.clientId;
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.maxPending = options.maxPending ?? 1000;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.hash = options.hash ?? stateHash;
    const openTimeoutMs = options.openTimeoutMs ?? 15_000;
    this.open = new OpenHandshake(docId, host, openTimeoutMs, (silentTimeouts) => {
      if (this.phase.kind !== 'opening') return;
      if (silentTimeouts >= OPEN_TIMEOUTS_BEFORE_RECONNECT && host.reconnect !== undefined) {
        // The server answers frames in order: an open unanswered this long means this connection is stuck behind
        // something on the server, and asking again on it cannot help. Another connection (perhaps to another
        // instance behind the load balancer) can; the documents re-open there.
        host.reconnect(`the open of ${docId} had no answer in ${(silentTimeouts * openTimeoutMs) / 1000} s`);
        return;
      }
      this.sendOpen(wantsFresh(this.phase) || !this.loaded);
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the presence host reads live state
    const sync = this;
    this.presence = new DocumentPresence(
      {
        docId,
        get confirmed() {
          return sync.ops.confirmed;
        },
        get text() {
          return sync.ops.text;
        },
        get version() {
          return sync.ops.version;
        },
        get isLive() {
          return sync.isLive;
        },
        pendingOps: () => sync.ops.ops,
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
    this.comments = new DocumentComments({
      docId,
      get version() {
        return sync.ops.version;
      },
      pendingOps: () => sync.ops.ops,
      get isLive() {
        return sync.isLive;
      },
      send: (message) => host.send(message),
      schedule: (ms, fn) => sync.later(ms, fn),
      newId: () => host.newClientId?.() ?? `${sync.clientId.slice(0, 100)}.${++sync.commentIds}`,
      changed: () => sync.events.emit('comments', { version: sync.ops.version }),
      resync: (reason) => {
        sync.events.emit('resync', { reason });
        sync.requestOpen(false);
      },
    });
  }

  // ---- state -------------------------------------------------------------------------------------------------

  get text(): Doc {
    return this.ops.text;
  }
  /** The server's text at `version`. */
  get confirmed(): Doc {
    return this.ops.confirmed;
  }
  get version(): number {
    return this.ops.version;
  }
  get inflight(): { op: TextOp; seq: number } | null {
    const inflight = this.ops.inflight;
    return inflight === null ? null : { op: inflight.op, seq: inflight.seq };
  }
  /** The unsent ops after the in-flight one (usually zero or one; more only for a split op). */
  get buffered(): TextOp[] {
    return this.ops.buffer.map((p) => p.op);
  }
  /** Local edits not yet acknowledged. */
  get pendingCount(): number {
    return this.ops.edits;
  }
  get isLoaded(): boolean {
    return this.loaded;
  }
  get isBlocked(): boolean {
    return this.ops.blocked;
  }
  /** Loaded, connected, not re-opening: ops flow. (Only a loaded document's open is ever answered.) */
  get isLive(): boolean {
    return this.phase.kind === 'live';
  }

  setBudget(budget: OpBudget): void {
    this.budget = budget;
  }

  // ---- local edits -------------------------------------------------------------------------------------------

  /** Apply a local edit (code points) at once and queue it for the server. Throws if the op does not fit. */
  applyLocal(op: TextOp): void {
    if (this.phase.kind === 'closed') throw new CollabClientError('ERR_CLOSED', `Document ${this.docId} is closed.`);
    if (!this.loaded) throw new CollabClientError('ERR_NOT_LOADED', `Document ${this.docId} is not loaded yet.`);
    if (this.ops.blocked) {
      throw new CollabClientError(
        'ERR_PENDING_LIMIT',
        `${this.ops.edits} edits to ${this.docId} are waiting to be sent; reload the document to continue.`,
      );
    }
    try {
      type.checkOp(op, this.ops.text);
    } catch (err) {
      throw new CollabClientError('ERR_RANGE', `The edit does not fit document ${this.docId}.`, false, { cause: err });
    }
    if (op.length === 0) return;
    const before = this.ops.applyLocal(op, this.budget);
    this.comments.localTextChanged(op);
    this.events.emit('change', {
      source: 'local',
      op,
      changes: utf16Changes(before, op),
      version: this.ops.version,
    });
    this.presence.textChanged(op, this.host.userId?.(), true);
    this.emitPending();
    if (this.ops.edits >= this.maxPending) {
      // Stop here rather than grow without bound: memory, and a merge the user could not follow. The pending ops
      // still go out if the connection returns; new edits wait for a reload.
      this.ops.blocked = true;
      this.events.emit('pending-limit', { limit: this.maxPending, work: this.unsentWork('pending limit reached') });
    }
    this.flush();
  }

  /** Send the next buffered op if nothing is in flight. */
  private flush(): void {
    if (!this.isLive || this.ops.inflight !== null) return;
    const next = this.ops.startNext(
      () => this.host.nextSeq(),
      this.clientId,
      () => this.emitPending(),
    );
    if (next !== null) this.sendInflight();
  }

  private sendInflight(): void {
    const inflight = this.ops.inflight;
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
      baseVersion: this.ops.version,
      op: type.stripInvertible(inflight.op),
    });
  }

  // ---- connection --------------------------------------------------------------------------------------------

  /** The connection is up (authenticated): open, or re-open from the last integrated version to catch up. */
  connected(): void {
    if (this.phase.kind === 'closed') return;
    this.startOpen(wantsFresh(this.phase) || !this.loaded);
  }

  /** The connection is gone: keep everything, send nothing; whatever was in flight is re-sent after re-opening. */
  disconnected(): void {
    this.presence.disconnected();
    this.comments.disconnected();
    this.phase = disconnected(this.phase);
    this.open.reset();
    if (this.ops.inflight !== null) this.ops.inflight.sent = false;
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
  }

  close(): void {
    if (this.phase.kind === 'closed') return;
    if (this.ops.edits > 0 || this.ops.inflight !== null) this.events.emit('unsent', this.unsentWork('closed'));
    this.phase = CLOSED;
    this.disconnected();
    this.presence.close();
    this.comments.close();
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
    if (!isOnline(this.phase)) return;
    if (this.phase.kind === 'opening') this.sendOpen(wantsFresh(this.phase) || !this.loaded);
    else if (this.ops.inflight !== null) this.sendInflight();
    else this.flush();
  }

  /** Open again, now if connected (for the whole text if `fresh`), else once connected. */
  private requestOpen(fresh: boolean, cause?: ResyncCause): void {
    if (cause !== undefined) this.open.cause = cause;
    const next = openRequested(this.phase, fresh);
    if (next.send) this.startOpen(fresh);
    else this.phase = next.phase;
  }

  private startOpen(fresh: boolean): void {
    this.open.requests++;
    this.phase = opening(fresh);
    this.sendOpen(fresh);
  }

  private sendOpen(fresh: boolean): void {
    this.open.send(fresh, this.ops.version);
  }

  // ---- server messages ---------------------------------------------------------------------------------------

  receive(message: ServerMessage): void {
    if (this.phase.kind === 'closed') return;
    switch (message.t) {
      case 'snapshot':
        return this.onSnapshot(message.version, message.text);
      case 'catchup':
        return this.onCatchup(message.version, message.ops);
      case 'snapshot-part':
      case 'catchup-part': {
        const whole = this.open.parts.add(message);
        if (whole !== undefined) return this.receive(whole);
        // A large answer is arriving: it is not lost, so the open timer waits for the next part.
        if (this.phase.kind === 'opening' && this.open.parts.busy) this.open.progressed();
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
      case 'comment':
      case 'comments':
      case 'comment-ack':
        // Until the answer to our open lands, live messages may be ahead of what we hold: keep them in order.
        if (this.phase.kind === 'opening' || !this.loaded) {
          this.open.hold(message);
          return;
        }
        if (message.t === 'op') return this.onRemote(message);
        if (message.t === 'presence' || message.t === 'presence-leave') return this.presence.receive(message);
        if (message.t === 'comment' || message.t === 'comments' || message.t === 'comment-ack') {
          return this.comments.receive(message);
        }
        if (message.t === 'ack') return this.onAck(message.seq, message.version);
        return this.onHash(message.version, message.hash);
      default:
        return;
    }
  }

  onAck(seq: number, version: number): void {
    const inflight = this.ops.inflight;
    // Not our current op: a duplicate ack (a re-sent op answered again) or one from before a reload.
    if (inflight === null || seq !== inflight.seq) return;
    if (version === this.ops.version + 1) return this.acknowledge(version);
    if (version > this.ops.version + 1) {
      // We missed ops before ours: catch up (the catch-up holds our op too, and counts as its ack).
      return this.requestOpen(false);
    }
    // The server says our op is in a version we already hold without it: we can no longer trust our text.
    this.resync(
      `ack for seq ${seq} at version ${version}, but this client is at version ${this.ops.version}`,
      'inconsistent',
    );
  }

  private acknowledge(version: number): void {
    const done = this.ops.acknowledge(version);
    this.comments.committed(done.op, version);
    this.presence.confirmed(version, done.op, this.host.userId?.(), true);
    this.events.emit('ack', { seq: done.seq, version });
    if (done.batch !== undefined) {
      done.batch.sent += done.units;
      this.events.emit('progress', { sent: done.batch.sent, total: done.batch.total });
    }
    this.emitPending();
    this.checkHash();
    this.flush();
    this.comments.flush(); // a create may have waited for this ack
  }

  onRemote(wire: WireOp & { docId?: string }): void {
    if (wire.version <= this.ops.version) return; // already integrated (a duplicate delivery)
    if (wire.version > this.ops.version + 1) return this.requestOpen(false); // a gap: catch up
    if (this.ops.isInflight(wire, this.host.userId?.())) {
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
    const { before, remote } = this.ops.integrate(wire);
    this.comments.committed(wire.op, wire.version);
    this.comments.localTextChanged(remote);
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
    if (version < this.ops.version) return; // we are past it: too late to compare
    this.pendingHash = { version, hash };
    this.checkHash();
  }

  /** Compare a remembered hash once we hold exactly its version (the confirmed text, pending edits or not). */
  private checkHash(): void {
    const expected = this.pendingHash;
    if (expected === undefined || expected.version > this.ops.version) return;
    this.pendingHash = undefined;
    if (expected.version < this.ops.version) return;
    const ok = this.hash(this.ops.confirmed.toString()) === expected.hash;
    this.events.emit('hash', { version: expected.version, ok });
    if (!ok) this.resync(`state hash mismatch at version ${expected.version}`, 'hash_mismatch');
  }

  onSnapshot(version: number, text: string): void {
    if (!this.loaded) {
      this.ops.reset(version, text);
      this.comments.reset(version);
      this.loaded = true;
      this.events.emit('load', { version });
      return this.opened();
    }
    if (version === this.ops.version && text === this.ops.confirmed.toString()) {
      // Nothing happened since our version: like an empty catch-up, the pending edits carry on.
      return this.opened();
    }
    // Our pending ops are based on a version whose successors we cannot see: they cannot be carried over.
    // If an ack for the in-flight op is held back at or before this version, the snapshot holds the op.
    const inflight = this.ops.inflight;
    const ackedInSnapshot = inflight !== null && this.open.holdsAck(inflight.seq, version);
    if (ackedInSnapshot) {
      // Not unsent work: the buffered ops that remain apply after it, so it joins the base of the report.
      this.ops.acknowledge(this.ops.version);
    }
    const before = this.ops.text;
    this.discardPending(`reloaded at version ${version}`, !ackedInSnapshot, false);
    this.ops.reset(version, text);
    this.comments.reset(version);
    this.pendingHash = undefined;
    this.emitReload(before);
    this.opened();
  }

  onCatchup(version: number, ops: readonly WireOp[]): void {
    if (!this.loaded) return this.requestOpen(true); // a catch-up for a document we never loaded: ask for the text
    const request = this.open.requests;
    for (const wire of ops) {
      if (wire.version <= this.ops.version) continue;
      if (wire.version !== this.ops.version + 1) break;
      this.onRemote(wire);
      if (this.open.requests !== request) return; // that op made us ask for a reload; its answer takes over
    }
    if (this.ops.version !== version) {
      return this.resync(`catch-up to ${version} left this client at ${this.ops.version}`, 'inconsistent');
    }
    this.opened();
  }

  onResync(reason: string): void {
    if (this.phase.kind === 'opening') {
      // The answer to our open: the server follows a resync with the snapshot. Should it not, the open timer
      // asks again, for the whole text this time.
      this.phase = opening(true);
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
    this.phase = answered(this.phase);
    for (const m of this.open.answered()) this.receive(m); // may start another open, which holds the rest again
    if (!this.isLive) return;
    this.presence.opened();
    // Same seq as before: if the server already has it, it answers with the original ack and commits nothing.
    const inflight = this.ops.inflight;
    if (inflight !== null && !inflight.sent) this.sendInflight();
    this.flush();
    this.comments.flush();
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
    if (this.comments.onError(error)) return; // about a comment command: its promise says it
    const retriable = error.retriable || RETRIABLE_CODES.has(error.code);
    const inflight = this.ops.inflight;
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
      if (error.code === 'ERR_DOC_NOT_OPEN') {
        // The server refused it before sequencing anything (it has no subscription of ours for the document, e.g.
        // a repeated open of ours failed there): open again and re-send the same op once opened — nothing is lost
        // and nothing handed back to the user.
        inflight.sent = false;
        this.events.emit('error', { code: error.code, message: error.message, seq: error.seq, retriable: true });
        this.requestOpen(false);
        return;
      }
      if (retriable) {
        inflight.sent = false;
        const delay = error.retryAfterMs ?? Math.min(this.retryBaseMs * 2 ** inflight.attempts, 30_000);
        inflight.attempts++;
        this.later(delay, () => {
          if (this.ops.inflight === inflight && !inflight.sent) this.sendInflight();
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
    else if (this.phase.kind === 'opening') {
      // The open was refused (forbidden, too many documents): stop asking; the owner decides what to do.
      this.open.stopTimer();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  /** Take every unsent op out of the document, report it, and show the confirmed text again. */
  private discardPending(reason: string, firstMaybeCommitted: boolean, showConfirmed = true): void {
    const { inflight } = this.ops;
    if (inflight !== null || this.ops.buffer.length > 0) {
      const work = this.unsentWork(reason);
      work.firstMaybeCommitted = firstMaybeCommitted && inflight !== null && inflight.everSent;
      this.events.emit('unsent', work);
    }
    const before = this.ops.discard();
    if (showConfirmed && before !== this.ops.text) this.emitReload(before);
    this.emitPending();
  }

  unsentWork(reason: string): UnsentWork {
    return this.ops.unsentWork(this.docId, reason);
  }

  private emitReload(before: Doc): void {
    const op: TextOp = type.normalize([{ d: before.length }, this.ops.text.toString()]);
    this.events.emit('change', {
      source: 'reload',
      op,
      changes: utf16Changes(before, op),
      version: this.ops.version,
    });
    this.presence.reset();
  }

  private emitPending(): void {
    this.events.emit('pending', { count: this.ops.edits });
  }

  private later(delayMs: number, fn: () => void): () => void {
    const cancel = this.host.schedule(delayMs, () => {
      this.retryTimers.delete(cancel);
      fn();
    });
    this.retryTimers.add(cancel);
    return cancel;
  }
}
