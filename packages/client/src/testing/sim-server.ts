/**
 * The server side of the protocol, in memory, as faithful as tests need it (the SDK's own and an app's): the real sequencer decision
 * (`decideSubmit` — validate, dedupe by (user, clientId, seq) within the window, transform from the base version with the
 * incoming op on the left) and `evolve` from @collab/core; acks to the sender only after the commit, the op to every
 * other subscriber, a state hash every `hashEvery` versions, and opens answered like the command service's hub:
 * a snapshot, a catch-up of the missing ops, or resync + snapshot when the client is too far behind — then the
 * document's comment threads. Comment commands are decided with the core's `decideComment` and folded with
 * `evolveComment`: the event to every subscriber, then the ack to the sender.
 *
 * Faults it can inject into submissions, as the real server can produce them: a retriable refusal (ERR_NOT_OWNER,
 * ERR_RATE_LIMITED with retryAfterMs) that commits nothing, and an "unknown outcome" (ERR_UNAVAILABLE after the
 * op was in fact committed: the append reached the log but its acknowledgement did not reach the server).
 *
 * It runs in browsers as well as Node (no Node built-ins): apps can use it in browser-based test runners.
 */
import type { DocumentState, OpCommitted } from '@collab/core';
import {
  DEFAULT_COMMENT_LIMITS,
  DEFAULT_SUBMIT_LIMITS,
  decideComment,
  decideSubmit,
  evolve,
  evolveComment,
  initialState,
  opsSince,
} from '@collab/core';
import type { ClientMessage, ServerMessage, WireLimits, WireOp } from '@collab/protocol';
import { stateHash, toWireOp } from '@collab/protocol';
import type { Rng } from './rng.js';

export interface SimServerOptions {
  window: number;
  catchupLimit: number;
  hashEvery: number;
  heartbeatMs: number;
  limits: WireLimits;
  /** Probability per submission of: a retriable refusal; a commit reported as ERR_UNAVAILABLE. */
  faults: { refuse: number; unknownOutcome: number };
  /** Accepted tokens. */
  tokens: ReadonlySet<string>;
  /** The state hash of a text (default: @collab/protocol's `stateHash`, the one the SDK checks against). */
  stateHash: (text: string) => string;
}

export const DEFAULT_LIMITS: WireLimits = {
  maxFrameBytes: 256 * 1024,
  maxOpInsertLength: 64 * 1024,
  maxDocuments: 64,
  maxUnacked: 256,
  opsPerSecond: 200,
};

interface SimDoc {
  state: DocumentState;
  subscribers: Set<SimSession>;
}

export class SimServer {
  readonly docs = new Map<string, SimDoc>();
  readonly options: SimServerOptions;
  /** Every message any session received, for assertions. */
  readonly received: ClientMessage[] = [];
  commits = 0;
  duplicates = 0;
  /** While true the server reads nothing and answers nothing (a hung process behind a live TCP connection). */
  hung = false;
  /** Documents nobody may open. */
  readonly forbidden = new Set<string>();
  /**
   * Documents whose next open leaves the connection that sent it stuck: that session reads no more frames (as a
   * real session whose open never completes holds every later frame behind it), while what it is subscribed to
   * still reaches it. Each entry stalls one open.
   */
  readonly stallNextOpen = new Set<string>();

  constructor(
    private readonly rng: Rng,
    private readonly now: () => number,
    options: Partial<SimServerOptions> = {},
  ) {
    this.options = {
      window: 1000,
      catchupLimit: 1000,
      hashEvery: 10,
      heartbeatMs: 5000,
      limits: DEFAULT_LIMITS,
      faults: { refuse: 0, unknownOutcome: 0 },
      tokens: new Set(['good']),
      stateHash,
      ...options,
    };
  }

  doc(docId: string): SimDoc {
    let doc = this.docs.get(docId);
    if (doc === undefined) {
      doc = { state: initialState(docId), subscribers: new Set() };
      this.docs.set(docId, doc);
    }
    return doc;
  }

  text(docId: string): string {
    return this.doc(docId).state.doc.toString();
  }

  version(docId: string): number {
    return this.doc(docId).state.version;
  }

  /** Commit an op as if another client (not under test) sent it on the head. */
  commitExternal(docId: string, op: WireOp['op'], clientId = 'external'): void {
    const doc = this.doc(docId);
    const decision = decideSubmit(
      doc.state,
      { docId, clientId, seq: doc.state.version + 1, baseVersion: doc.state.version, op, userId: 'ext' },
      this.now(),
      { ...DEFAULT_SUBMIT_LIMITS, maxOpInsertLength: this.options.limits.maxOpInsertLength },
    );
    if (decision.kind !== 'commit') throw new Error(`external op not committed: ${JSON.stringify(decision)}`);
    this.commit(doc, decision.record, undefined);
  }

  /** Tell a session the document must be reloaded (as the hub does when it cannot trust a replica). */
  resync(docId: string, reason: string): void {
    const doc = this.doc(docId);
    for (const session of doc.subscribers) {
      session.send({ t: 'resync', docId, reason });
      session.send(this.snapshot(doc));
    }
  }

  handle(session: SimSession, message: ClientMessage): void {
    this.received.push(message);
    switch (message.t) {
      case 'ping':
        return session.send(message.id === undefined ? { t: 'pong' } : { t: 'pong', id: message.id });
      case 'auth':
        if (!this.options.tokens.has(message.token)) {
          return session.send({ t: 'error', code: 'ERR_TOKEN_INVALID', message: 'bad token', retriable: false });
        }
        session.userId = `user-${message.token}`;
        return session.send({
          t: 'welcome',
          protocol: 1,
          userId: session.userId,
          sessionId: session.id,
          limits: this.options.limits,
          heartbeatMs: this.options.heartbeatMs,
        });
      default:
        if (session.userId === undefined) {
          return session.send({ t: 'error', code: 'ERR_UNAUTHENTICATED', message: 'auth first', retriable: false });
        }
    }
    if (message.t === 'open') {
      if (this.forbidden.has(message.docId)) {
        return session.send({
          t: 'error',
          code: 'ERR_FORBIDDEN',
          message: 'no',
          retriable: false,
          docId: message.docId,
        });
      }
      const doc = this.doc(message.docId);
      doc.subscribers.add(session);
      session.open.add(message.docId);
      for (const m of this.upToDate(doc, message.version)) session.send(m);
    } else if (message.t === 'close') {
      this.doc(message.docId).subscribers.delete(session);
      session.open.delete(message.docId);
      session.send({ t: 'closed', docId: message.docId });
    } else if (message.t === 'submit') {
      this.submit(session, message);
    } else if (message.t === 'comment') {
      this.comment(session, message);
    }
  }

  private comment(session: SimSession, message: Extract<ClientMessage, { t: 'comment' }>): void {
    const { docId, ref } = message;
    if (!session.open.has(docId)) {
      return session.send({
        t: 'error',
        code: 'ERR_DOC_NOT_OPEN',
        message: 'open first',
        retriable: false,
        docId,
        ref,
      });
    }
    const doc = this.doc(docId);
    const { state } = doc;
    const decision = decideComment(state.comments, message.command, {
      docId,
      userId: session.userId!,
      now: this.now(),
      version: state.version,
      length: state.doc.length,
      opsSince: (version) => opsSince(state, version)?.map((r) => r.op),
      limits: DEFAULT_COMMENT_LIMITS,
    });
    if (decision.kind === 'reject') {
      return session.send({ t: 'error', code: decision.code, message: decision.message, retriable: false, docId, ref });
    }
    if (decision.kind === 'commit') {
      const { event } = decision;
      doc.state = evolveComment(state, event);
      const sent: ServerMessage = {
        t: 'comment',
        docId,
        version: event.version,
        userId: event.userId,
        timestamp: event.timestamp,
        body: event.body,
      };
      for (const s of doc.subscribers) s.send(sent);
    }
    session.send({ t: 'comment-ack', docId, ref, duplicate: decision.kind === 'duplicate' });
  }

  private submit(session: SimSession, message: Extract<ClientMessage, { t: 'submit' }>): void {
    const { docId, seq } = message;
    if (!session.open.has(docId)) {
      return session.send({
        t: 'error',
        code: 'ERR_DOC_NOT_OPEN',
        message: 'open first',
        retriable: false,
        docId,
        seq,
      });
    }
    const doc = this.doc(docId);
    const { faults } = this.options;
    if (this.rng.chance(faults.refuse)) {
      const code = this.rng.chance(0.5) ? 'ERR_NOT_OWNER' : 'ERR_RATE_LIMITED';
      return session.send({
        t: 'error',
        code,
        message: 'try again',
        retriable: true,
        retryAfterMs: 50 + this.rng.int(200),
        docId,
        seq,
      });
    }
    const decision = decideSubmit(
      doc.state,
      {
        docId,
        clientId: message.clientId,
        seq,
        baseVersion: message.baseVersion,
        op: message.op,
        userId: session.userId!,
      },
      this.now(),
      { ...DEFAULT_SUBMIT_LIMITS, maxOpInsertLength: this.options.limits.maxOpInsertLength },
    );
    if (decision.kind === 'reject') {
      return session.send({
        t: 'error',
        code: decision.code,
        message: decision.message,
        retriable: false,
        docId,
        seq,
        ...(decision.detail === undefined ? {} : { detail: decision.detail }),
      });
    }
    if (decision.kind === 'duplicate') {
      this.duplicates++;
      return session.send({ t: 'ack', docId, seq, version: decision.version });
    }
    if (this.rng.chance(faults.unknownOutcome)) {
      // Durable, but the sender hears "unavailable": it must retry with the same seq and get the original ack.
      this.commit(doc, decision.record, undefined, session);
      return session.send({
        t: 'error',
        code: 'ERR_UNAVAILABLE',
        message: 'log unavailable',
        retriable: true,
        retryAfterMs: 100,
        docId,
        seq,
      });
    }
    this.commit(doc, decision.record, session);
  }

  /** Fold a durable record in; the op to everyone but its sender, the ack to the sender, then maybe the hash. */
  private commit(doc: SimDoc, record: OpCommitted, sender: SimSession | undefined, silent?: SimSession): void {
    doc.state = evolve(doc.state, record, this.options.window);
    this.commits++;
    const op: ServerMessage = { t: 'op', docId: record.docId, ...toWireOp(record) };
    for (const s of doc.subscribers) if (s !== sender && s !== silent) s.send(op);
    sender?.send({ t: 'ack', docId: record.docId, seq: record.seq, version: record.version });
    const { hashEvery } = this.options;
    if (hashEvery > 0 && record.version % hashEvery === 0) {
      const hash = this.options.stateHash(doc.state.doc.toString());
      for (const s of doc.subscribers) s.send({ t: 'hash', docId: record.docId, version: record.version, hash });
    }
  }

  private snapshot(doc: SimDoc): ServerMessage {
    return { t: 'snapshot', docId: doc.state.docId, version: doc.state.version, text: doc.state.doc.toString() };
  }

  private upToDate(doc: SimDoc, from: number | undefined): ServerMessage[] {
    const { state } = doc;
    const threads: ServerMessage = {
      t: 'comments',
      docId: state.docId,
      version: state.version,
      part: 0,
      parts: 1,
      threads: [...state.comments.threads.values()],
    };
    if (from === undefined) return [this.snapshot(doc), threads];
    const behind = state.version - from;
    if (from > state.version || behind > this.options.catchupLimit || behind > state.recent.length) {
      return [{ t: 'resync', docId: state.docId, reason: `${behind} versions behind` }, this.snapshot(doc), threads];
    }
    const missing = state.recent.slice(state.recent.length - behind);
    return [{ t: 'catchup', docId: state.docId, version: state.version, ops: missing.map(toWireOp) }, threads];
  }

  disconnected(session: SimSession): void {
    for (const docId of session.open) this.doc(docId).subscribers.delete(session);
    session.open.clear();
  }
}

let sessionIds = 0;

/** The server's end of one connection: it handles frames in arrival order and sends through `deliver`. */
export class SimSession {
  readonly id = `s${++sessionIds}`;
  /** Who the connection authenticated as (undefined: not yet). */
  userId: string | undefined;
  readonly open = new Set<string>();

  constructor(
    private readonly server: SimServer,
    private readonly deliver: (frame: string) => void,
  ) {}

  /** Stuck behind an open that never completes (SimServer.stallNextOpen): later frames are never read. */
  private stalled = false;

  receive(frame: string): void {
    if (this.server.hung || this.stalled) return;
    const message = JSON.parse(frame) as ClientMessage;
    if (message.t === 'open' && this.server.stallNextOpen.delete(message.docId)) {
      this.stalled = true;
      return;
    }
    this.server.handle(this, message);
  }

  send(message: ServerMessage): void {
    this.deliver(JSON.stringify(message));
  }

  disconnected(): void {
    this.server.disconnected(this);
  }
}
