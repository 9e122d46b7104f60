/**
 * One client connection, independent of the transport: it authenticates, validates every frame, enforces the
 * per-connection limits, and turns messages into hub calls. Every rejection is an `error` message with a stable
 * code for this client only; nothing a client sends can affect another client except valid ops.
 */
import { randomUUID } from 'node:crypto';
import type { PresenceMember, PresenceRouter } from '@collab/presence-service';
import { PresenceError } from '@collab/presence-service';
import type { Logger } from 'pino';
import type { Principal, TokenVerifier } from '../auth/tokens.js';
import { can } from '../auth/tokens.js';
import type { DocumentHub } from '../documents/document-hub.js';
import type { ProtocolErrorCode } from '../protocol/errors.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ServerMessage, WireLimits } from '../protocol/messages.js';
import { CLIENT_MESSAGE_TYPES, ClientMessage, PROTOCOL_VERSION } from '../protocol/messages.js';
import { inSpan, instruments } from '../telemetry.js';
import { TokenBucket } from './token-bucket.js';

export interface SessionLimits extends WireLimits {
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
}

export class Session {
  readonly id = randomUUID();
  private principal: Principal | undefined;
  private readonly open = new Set<string>();
  private unacked = 0;
  private readonly submits: TokenBucket;
  private readonly messages: TokenBucket;
  /** Opens answer with a whole text or a catch-up: far more bytes than they cost to send, so they have a rate. */
  private readonly opens: TokenBucket;
  private closed = false;
  /** Frames are handled strictly in arrival order (an open completes before the next frame is looked at). */
  private chain: Promise<void> = Promise.resolve();
  /** Subscriber identity for the hub: this session. */
  readonly subscriber = { id: this.id, deliver: (m: ServerMessage) => this.transport.send(m) };

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

  /** The connection is gone: unsubscribe everywhere. */
  async disconnected(): Promise<void> {
    this.closed = true;
    await this.deps.presence?.leaveAll(this.presenceMember());
    await Promise.all([...this.open].map((docId) => this.deps.hub.close(this.subscriber, docId)));
    this.open.clear();
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
    if (principal.expiresAt !== undefined && principal.expiresAt <= this.deps.now()) {
      this.principal = undefined;
      throw new ProtocolError('ERR_TOKEN_EXPIRED', 'The token has expired; authenticate again.');
    }
    switch (message.t) {
      case 'open':
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
      case 'presence':
        return this.presence(principal, message);
    }
  }

  private async authenticate(token: string, protocol: number): Promise<void> {
    if (protocol !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        'ERR_PROTOCOL_VERSION',
        `This server speaks protocol ${PROTOCOL_VERSION}, not ${protocol}.`,
      );
    }
    this.principal = await this.deps.verifier.verify(token);
    const { messagesPerSecond: _, ...limits } = this.deps.limits;
    this.transport.send({
      t: 'welcome',
      protocol: PROTOCOL_VERSION,
      userId: this.principal.userId,
      sessionId: this.id,
      limits,
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
    try {
      await this.deps.hub.open(this.subscriber, docId, version);
    } catch (err) {
      this.open.delete(docId);
      await this.deps.hub.close(this.subscriber, docId);
      throw err;
    }
    // After the snapshot or catch-up: who is here, with cursors at the version the client now holds.
    await this.deps.presence?.join(this.presenceMember(principal), docId);
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

  /** This session as presence sees it; only the session id matters for leaving. */
  private presenceMember(principal: Principal | undefined = this.principal): PresenceMember {
    return {
      sessionId: this.id,
      userId: principal?.userId ?? '',
      name: principal?.name,
      deliver: (m) => this.transport.send(m),
      ...(this.transport.sendEncoded === undefined
        ? {}
        : { deliverEncoded: (frames: readonly string[]) => this.transport.sendEncoded!(frames) }),
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
      instruments.opAckLatency.record(performance.now() - started);
    } catch (err) {
      // Say which op failed, whichever layer refused it (the client resends exactly that one).
      if (err instanceof ProtocolError && err.options.seq === undefined) {
        throw new ProtocolError(err.code, err.message, { ...err.options, docId, seq });
      }
      throw err;
    } finally {
      this.unacked--;
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
      ...(e.options.detail === undefined ? {} : { detail: e.options.detail }),
    });
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
    throw new ProtocolError('ERR_INVALID_MESSAGE', `Invalid ${String(t)} message: ${where}${issue.message}.`, {
      ...(typeof docId === 'string' ? { docId } : {}),
      ...(typeof seq === 'number' ? { seq } : {}),
    });
  }
  return parsed.data;
}

export type { ProtocolErrorCode };
