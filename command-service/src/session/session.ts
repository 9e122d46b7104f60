/**
 * One client connection, independent of the transport: it authenticates, validates every frame, enforces the
 * per-connection limits, and turns messages into hub calls. Every rejection is an `error` message with a stable
 * code for this client only; nothing a client sends can affect another client except valid ops.
 *
 * Access follows the token now: document traffic (ops, acks, presence) reaches the client only while its token is
 * valid and grants read on that document. An `auth` replaces the principal — documents the new token may not read
 * are closed (`closed` with ERR_FORBIDDEN) before the `welcome`; a failed `auth` signs the connection out; and when
 * the token expires, delivery stops at once and every document is closed (ERR_TOKEN_EXPIRED) until a fresh token
 * arrives.
 */
import { randomUUID } from 'node:crypto';
import { OtError, type } from '@collab/ot-text';
import type { PresenceMember, PresenceRouter } from '@collab/presence-service';
import { PresenceError } from '@collab/presence-service';
import type { Logger } from 'pino';
import type { Principal, TokenVerifier } from '../auth/tokens.js';
import { can } from '../auth/tokens.js';
import type { DocumentHub } from '../documents/document-hub.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ProtocolErrorCode, ResyncCause, ServerMessage, WireLimits } from '@collab/protocol';
import { CLIENT_MESSAGE_TYPES, PROTOCOL_VERSION } from '@collab/protocol';
import { ClientMessage } from '@collab/protocol/schemas';
import { inSpan, instruments, secondsSince } from '../telemetry.js';
import type { CommentLimits } from '@collab/core';
import { TokenBucket } from '@collab/core';

/** The comment limits of `welcome`: the document's channel enforces them (HubSettings.commentLimits). */
type CommentWireLimits = 'maxCommentLength' | 'maxThreadsPerDocument' | 'maxMessagesPerThread';

/** The limits a session enforces: every limit of the protocol (this server sends them all), and one more. */
export interface SessionLimits extends Required<Omit<WireLimits, CommentWireLimits>> {
  /** Any message, per second, per connection (floods). */
  messagesPerSecond: number;
}

export interface Transport {
  send(message: ServerMessage): void;
  /** Optional: frames already JSON-encoded (shared by many recipients), sent together in one write. */
  sendEncoded?(frames: readonly string[]): void;
  /** Close the connection (after an unrecoverable protocol violation). */
  close(code: number, reason: string): void;
}

export interface SessionDeps {
  hub: DocumentHub;
  verifier: TokenVerifier;
  limits: SessionLimits;
  heartbeatMs: number;
  now: () => number;
  logger: Logger;
  /** Presence (cursors, who is here) for the documents this session opens; absent: presence messages are ignored. */
  presence?: PresenceRouter;
  /** Counts rejections by code (metrics). */
  onRejected?: (code: string) => void;
  /** The comment limits the documents' channels enforce, told to the client in `welcome`; absent: no comments. */
  commentLimits?: CommentLimits;
}

/** How long an open may take before the session logs what it waits for (and again at each such interval). */
const SLOW_OPEN_WARNING_MS = 20_000;

/** setTimeout's longest delay (about 24.8 days); a later expiry is checked again when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Session {
  readonly id = randomUUID();
  private principal: Principal | undefined;
  /** Fires when the principal's token expires. */
  private expiryTimer: NodeJS.Timeout | undefined;
  /** A sign-out for expiry is queued behind the frames being handled. */
  private expiring = false;
  private readonly open = new Set<string>();
  private unacked = 0;
  private readonly submits: TokenBucket;
  private readonly messages: TokenBucket;
  /** Opens answer with a whole text or a catch-up: far more bytes than they cost to send, so they have a rate. */
  private readonly opens: TokenBucket;
  private closed = false;
  /** Frames are handled strictly in arrival order (an open completes before the next frame is looked at). */
  private chain: Promise<void> = Promise.resolve();
  /** Subscriber identity for the hub: this session. Everything the hub sends it is about one document. */
  readonly subscriber = {
    id: this.id,
    deliver: (m: ServerMessage) => {
      if (this.mayReceive((m as { docId?: string }).docId)) this.transport.send(m);
    },
  };

  constructor(
    private readonly transport: Transport,
    private readonly deps: SessionDeps,
  ) {
    this.submits = new TokenBucket(deps.limits.opsPerSecond, deps.limits.opsPerSecond * 2, deps.now);
    this.messages = new TokenBucket(deps.limits.messagesPerSecond, deps.limits.messagesPerSecond * 2, deps.now);
    // A reconnect re-opens every open document at once: the burst lets that through.
    const { opensPerSecond, maxDocuments } = deps.limits;
    this.opens = new TokenBucket(opensPerSecond, Math.max(maxDocuments, opensPerSecond * 2), deps.now);
  }

  /** Handle one frame, after the previous ones. Never rejects: every problem becomes an error message. */
  receive(frame: string | ArrayBuffer): Promise<void> {
    this.chain = this.chain.then(() => this.handle(frame));
    return this.chain;
  }

  /**
   * Whether document traffic may go out now: the document is open here, and the token is still valid. An expired
   * token stops it at once (the timer may fire a moment later) and queues the sign-out.
   */
  private mayReceive(docId: string | undefined): boolean {
    if (this.closed || (docId !== undefined && !this.open.has(docId))) return false;
    const principal = this.principal;
    if (principal === undefined) return false;
    if (principal.expiresAt > this.deps.now()) return true;
    this.expire();
    return false;
  }

  /** Watch the principal's expiry: when it comes, sign out (through the frame queue, like a frame). */
  private watchExpiry(principal: Principal | undefined): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (principal === undefined) return;
    const delay = Math.min(Math.max(0, principal.expiresAt - this.deps.now()), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => {
      if (this.principal !== principal) return;
      if (principal.expiresAt > this.deps.now()) this.watchExpiry(principal);
      else this.expire();
    }, delay);
    this.expiryTimer.unref();
  }

  private expire(): void {
    if (this.expiring || this.closed) return;
    this.expiring = true;
    this.chain = this.chain.then(async () => {
      this.expiring = false;
      const principal = this.principal;
      // Re-authenticated (or signed out) meanwhile: nothing to do.
      if (this.closed || principal === undefined || principal.expiresAt > this.deps.now()) return;
      try {
        await this.signOut('ERR_TOKEN_EXPIRED', 'The token has expired; authenticate again with a fresh one.');
        throw new ProtocolError('ERR_TOKEN_EXPIRED', 'The token has expired; authenticate again.');
      } catch (err) {
        this.reject(err);
      }
    });
  }

  /** The connection no longer speaks for anyone: every document is closed with `reason`. */
  private async signOut(reason: ProtocolErrorCode, message: string): Promise<void> {
    this.principal = undefined;
    this.watchExpiry(undefined);
    await this.closeDocuments([...this.open], reason, message);
  }

  /**
   * Close documents on the server's initiative: `closed` with the reason goes out first, and nothing more for them
   * (they leave `open` at once, which stops delivery), then the hub and presence forget this session there.
   */
  private async closeDocuments(docIds: readonly string[], reason: ProtocolErrorCode, message: string): Promise<void> {
    for (const docId of docIds) {
      this.open.delete(docId);
      this.transport.send({ t: 'closed', docId, reason, message });
    }
    await Promise.all(
      docIds.map(async (docId) => {
        await this.deps.presence?.leave(this.presenceMember(), docId);
        await this.deps.hub.close(this.subscriber, docId);
      }),
    );
  }

  private async handle(frame: string | ArrayBuffer): Promise<void> {
    if (this.closed) return;
    try {
      const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8');
      const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
      if (bytes > this.deps.limits.maxFrameBytes) {
        throw new ProtocolError(
          'ERR_FRAME_TOO_LARGE',
          `The frame has ${bytes} bytes; the limit is ${this.deps.limits.maxFrameBytes}. Split large pastes into several ops.`,
        );
      }
      const wait = this.messages.take();
      if (wait > 0)
        throw new ProtocolError('ERR_RATE_LIMITED', 'Too many messages; slow down.', { retryAfterMs: wait });
      await this.dispatch(parse(text));
    } catch (err) {
      this.reject(err);
    }
  }

  /** The connection is gone: unsubscribe everywhere. Never rejects (the transport does not wait for it). */
  async disconnected(): Promise<void> {
    this.closed = true;
    this.watchExpiry(undefined);
    try {
      await this.deps.presence?.leaveAll(this.presenceMember());
      await Promise.all([...this.open].map((docId) => this.deps.hub.close(this.subscriber, docId)));
    } catch (err) {
      this.deps.logger.error({ err, session: this.id }, 'cleaning up after a closed connection failed');
    } finally {
      this.open.clear();
    }
  }

  private async dispatch(message: ClientMessage): Promise<void> {
    if (message.t === 'ping') {
      this.transport.send(message.id === undefined ? { t: 'pong' } : { t: 'pong', id: message.id });
      return;
    }
    if (message.t === 'auth') {
      await this.authenticate(message.token, message.protocol);
      return;
    }
    const principal = this.principal;
    if (principal === undefined) {
      throw new ProtocolError('ERR_UNAUTHENTICATED', 'Send an auth message with a valid token first.');
    }
    if (principal.expiresAt <= this.deps.now()) {
      await this.signOut('ERR_TOKEN_EXPIRED', 'The token has expired; authenticate again with a fresh one.');
      throw new ProtocolError('ERR_TOKEN_EXPIRED', 'The token has expired; authenticate again.');
    }
    switch (message.t) {
      case 'open':
        if (message.resync !== undefined) this.clientResynced(principal, message.docId, message.resync);
        return this.openDoc(principal, message.docId, message.version);
      case 'close':
        this.open.delete(message.docId);
        await this.deps.presence?.leave(this.presenceMember(), message.docId);
        await this.deps.hub.close(this.subscriber, message.docId);
        this.transport.send({ t: 'closed', docId: message.docId });
        return;
      case 'submit':
        // Not awaited: the next frame may be the next op. Ops keep their order in the document's queue.
        this.submit(principal, message).catch((err: unknown) => this.reject(err));
        return;
      case 'comment':
        // Not awaited either: decided in arrival order with the ops, acked once durable.
        this.comment(principal, message).catch((err: unknown) => this.reject(err));
        return;
      case 'presence':
        return this.presence(principal, message);
    }
  }

  private async authenticate(token: string, protocol: number): Promise<void> {
    let next: Principal;
    try {
      if (protocol !== PROTOCOL_VERSION) {
        throw new ProtocolError(
          'ERR_PROTOCOL_VERSION',
          `This server speaks protocol ${PROTOCOL_VERSION}, not ${protocol}.`,
        );
      }
      next = await this.deps.verifier.verify(token);
    } catch (err) {
      // A refused token must not leave the previous one in charge: the connection is signed out.
      if (this.principal !== undefined) {
        const code = err instanceof ProtocolError ? err.code : 'ERR_UNAUTHENTICATED';
        await this.signOut(code, 'Authentication failed; authenticate again and re-open the document.');
      }
      throw err;
    }
    const previous = this.principal;
    this.principal = next;
    this.watchExpiry(next);
    // Access follows the new token: what it may not read is closed before anything else is said.
    await Promise.all(
      [...this.open]
        .filter((docId) => !can(next, 'read', docId))
        .map((docId) =>
          this.closeDocuments([docId], 'ERR_FORBIDDEN', `You may not read document ${docId} with this token.`),
        ),
    );
    if (previous !== undefined && (previous.userId !== next.userId || previous.name !== next.name)) {
      // Others must see who is here now: leave and join again under the new identity.
      await Promise.all(
        [...this.open].map(async (docId) => {
          await this.deps.presence?.leave(this.presenceMember(previous), docId);
          await this.deps.presence?.join(this.presenceMember(next, docId), docId);
        }),
      );
    }
    const { messagesPerSecond: _, ...limits } = this.deps.limits;
    const comments = this.deps.commentLimits;
    this.transport.send({
      t: 'welcome',
      protocol: PROTOCOL_VERSION,
      userId: next.userId,
      sessionId: this.id,
      limits:
        comments === undefined
          ? limits
          : {
              ...limits,
              maxCommentLength: comments.maxCommentLength,
              maxThreadsPerDocument: comments.maxThreadsPerDocument,
              maxMessagesPerThread: comments.maxMessagesPerThread,
            },
      heartbeatMs: this.deps.heartbeatMs,
    });
  }

  private async openDoc(principal: Principal, docId: string, version: number | undefined): Promise<void> {
    if (!can(principal, 'read', docId)) {
      throw new ProtocolError('ERR_FORBIDDEN', `You may not read document ${docId}.`, { docId });
    }
    if (!this.open.has(docId) && this.open.size >= this.deps.limits.maxDocuments) {
      throw new ProtocolError(
        'ERR_TOO_MANY_DOCUMENTS',
        `A connection may have ${this.deps.limits.maxDocuments} documents open; close one first.`,
        { docId },
      );
    }
    const wait = this.opens.take();
    if (wait > 0) {
      throw new ProtocolError('ERR_RATE_LIMITED', 'Too many opens; slow down.', { retryAfterMs: wait, docId });
    }
    this.open.add(docId);
    // Every later frame of this connection waits for this open: say so when it takes long, and on what.
    const started = this.deps.now();
    const slow = setInterval(() => {
      this.deps.logger.warn(
        { docId, session: this.id, waitingMs: this.deps.now() - started, on: this.deps.hub.describeOpen(docId) },
        "an open is still unanswered; the connection's later frames wait behind it",
      );
    }, SLOW_OPEN_WARNING_MS);
    slow.unref();
    try {
      await this.deps.hub.open(this.subscriber, docId, version);
    } catch (err) {
      this.open.delete(docId);
      await this.deps.hub.close(this.subscriber, docId);
      throw err;
    } finally {
      clearInterval(slow);
    }
    // After the snapshot or catch-up: who is here, with cursors at the version the client now holds.
    await this.deps.presence?.join(this.presenceMember(principal, docId), docId);
  }

  /** The client reloads a document it holds and says why: a hash mismatch is a divergence (the SLO's signal). */
  private clientResynced(principal: Principal, docId: string, cause: ResyncCause): void {
    instruments.clientResyncs.add(1, { reason: cause });
    if (cause === 'hash_mismatch') {
      this.deps.logger.warn({ docId, userId: principal.userId, session: this.id }, 'client state hash mismatch');
    }
  }

  private async presence(principal: Principal, message: Extract<ClientMessage, { t: 'presence' }>): Promise<void> {
    const { docId } = message;
    if (!this.open.has(docId)) {
      throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${docId} before sending presence to it.`, { docId });
    }
    if (this.deps.presence === undefined) return; // an instance without presence: nothing to share it with
    try {
      await this.deps.presence.update(this.presenceMember(principal), message);
    } catch (err) {
      if (err instanceof PresenceError) throw new ProtocolError(err.code, err.message, { docId });
      throw err;
    }
  }

  /**
   * This session as presence sees it in `docId` (what it joins with delivers only while `mayReceive`); only the
   * session id matters for leaving and updates.
   */
  private presenceMember(principal: Principal | undefined = this.principal, docId?: string): PresenceMember {
    const sendEncoded = this.transport.sendEncoded?.bind(this.transport);
    return {
      sessionId: this.id,
      userId: principal?.userId ?? '',
      name: principal?.name,
      deliver: (m) => {
        if (this.mayReceive(docId)) this.transport.send(m);
      },
      ...(sendEncoded === undefined
        ? {}
        : {
            deliverEncoded: (frames: readonly string[]) => {
              if (this.mayReceive(docId)) sendEncoded(frames);
            },
          }),
    };
  }

  private async submit(principal: Principal, message: Extract<ClientMessage, { t: 'submit' }>): Promise<void> {
    const { docId, seq } = message;
    if (!can(principal, 'write', docId)) {
      throw new ProtocolError('ERR_FORBIDDEN', `You may not edit document ${docId}.`, { docId, seq });
    }
    if (!this.open.has(docId)) {
      throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${docId} before submitting ops to it.`, {
        docId,
        seq,
      });
    }
    const wait = this.submits.take();
    if (wait > 0)
      throw new ProtocolError('ERR_RATE_LIMITED', 'Too many ops; slow down.', { retryAfterMs: wait, docId, seq });
    if (this.unacked >= this.deps.limits.maxUnacked) {
      throw new ProtocolError(
        'ERR_TOO_MANY_UNACKED',
        `${this.unacked} ops are waiting for their ack; wait for acks before sending more.`,
        { retryAfterMs: 100, docId, seq },
      );
    }
    checkOpShape(message.op, docId, seq);
    this.unacked++;
    const started = performance.now();
    try {
      // The hub acks the sender itself, in order with the broadcast; here we only account.
      await inSpan('collab.submit', { 'collab.doc_id': docId, 'collab.seq': seq }, () =>
        this.deps.hub.submit(this.subscriber, {
          docId,
          clientId: message.clientId,
          seq,
          baseVersion: message.baseVersion,
          op: message.op,
          userId: principal.userId,
        }),
      );
      instruments.opAckLatency.record(secondsSince(started));
    } catch (err) {
      // Say which op failed, whichever layer refused it (the client resends exactly that one).
      if (err instanceof ProtocolError && err.options.seq === undefined) {
        throw new ProtocolError(err.code, err.message, { ...err.options, docId, seq });
      }
      if (err instanceof ProtocolError) throw err;
      // A bug of ours: logged here, and answered with the seq too, or the client would wait for an ack forever.
      this.deps.logger.error({ err, session: this.id, docId, seq }, 'unexpected error');
      throw new ProtocolError('ERR_INTERNAL', 'Something went wrong on the server; it has been logged.', {
        docId,
        seq,
      });
    } finally {
      this.unacked--;
    }
  }

  private async comment(principal: Principal, message: Extract<ClientMessage, { t: 'comment' }>): Promise<void> {
    const { docId, ref } = message;
    if (this.deps.commentLimits === undefined) {
      throw new ProtocolError('ERR_COMMENTS_DISABLED', 'This server does not keep comment threads.', { docId, ref });
    }
    if (!can(principal, 'comment', docId)) {
      throw new ProtocolError('ERR_FORBIDDEN', `You may not comment on document ${docId}.`, { docId, ref });
    }
    if (!this.open.has(docId)) {
      throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${docId} before commenting on it.`, { docId, ref });
    }
    // A comment is an append to the log like an op: it counts towards the same rate.
    const wait = this.submits.take();
    if (wait > 0) {
      throw new ProtocolError('ERR_RATE_LIMITED', 'Too many ops and comments; slow down.', {
        retryAfterMs: wait,
        docId,
        ref,
      });
    }
    try {
      await this.deps.hub.comment(this.subscriber, { docId, ref, userId: principal.userId, command: message.command });
    } catch (err) {
      if (err instanceof ProtocolError && err.options.ref === undefined) {
        throw new ProtocolError(err.code, err.message, { ...err.options, docId, ref });
      }
      throw err;
    }
  }

  private reject(err: unknown): void {
    if (this.closed) return;
    const e =
      err instanceof ProtocolError
        ? err
        : new ProtocolError('ERR_INTERNAL', 'Something went wrong on the server; it has been logged.');
    if (!(err instanceof ProtocolError)) this.deps.logger.error({ err, session: this.id }, 'unexpected error');
    this.deps.onRejected?.(e.code);
    instruments.rejections.add(1, { code: e.code });
    this.transport.send({
      t: 'error',
      code: e.code,
      message: e.message,
      retriable: e.retriable,
      ...(e.options.retryAfterMs === undefined ? {} : { retryAfterMs: e.options.retryAfterMs }),
      ...(e.options.docId === undefined ? {} : { docId: e.options.docId }),
      ...(e.options.seq === undefined ? {} : { seq: e.options.seq }),
      ...(e.options.ref === undefined ? {} : { ref: e.options.ref }),
      ...(e.options.detail === undefined ? {} : { detail: e.options.detail }),
    });
  }
}

/**
 * The op's shape, checked where it arrives (the sequencer checks it again against the document): a malformed op
 * is this client's ERR_OP_INVALID, never an internal error in a later stage — a forward to the owner serialises
 * the op, and an array nested 100,000 deep overflows the stack there.
 */
function checkOpShape(op: unknown, docId: string, seq: number): void {
  try {
    type.checkOp(op);
  } catch (err) {
    if (err instanceof OtError)
      throw new ProtocolError('ERR_OP_INVALID', err.message, { docId, seq, detail: err.code });
    throw err;
  }
}

function parse(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('ERR_BAD_FRAME', 'The frame is not valid JSON.');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError('ERR_INVALID_MESSAGE', 'A message is a JSON object with a "t" field.');
  }
  const t = (raw as { t?: unknown }).t;
  if (!CLIENT_MESSAGE_TYPES.includes(t as never)) {
    throw new ProtocolError('ERR_UNKNOWN_TYPE', `Unknown message type ${JSON.stringify(t) ?? 'undefined'}.`);
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    const docId = (raw as { docId?: unknown }).docId;
    const seq = (raw as { seq?: unknown }).seq;
    const ref = (raw as { ref?: unknown }).ref;
    throw new ProtocolError('ERR_INVALID_MESSAGE', `Invalid ${String(t)} message: ${where}${issue.message}.`, {
      ...(typeof docId === 'string' ? { docId } : {}),
      ...(typeof seq === 'number' ? { seq } : {}),
      // A comment command's request id, when it is one the client could have sent: its promise then fails.
      ...(typeof ref === 'string' && ref.length <= 64 ? { ref } : {}),
    });
  }
  return parsed.data;
}

export type { ProtocolErrorCode };
