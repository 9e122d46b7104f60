/**
 * One connection to the command service, carrying any number of documents.
 *
 *   connecting ──welcome──▶ online ──close/error/silence──▶ offline ──backoff──▶ reconnecting ──welcome──▶ online
 *
 * Each (re)connection authenticates with a fresh token, then re-opens every document from the last version it
 * integrated; each document catches up, re-sends its in-flight op with the same seq (the server dedupes by
 * (user, clientId, seq)) and carries on. Editing never waits for the network: while offline, edits apply locally and
 * queue. The clientId and every document's seq counter live as long as this object, across reconnects and
 * re-opens, because the server's dedupe relies on never seeing a (clientId, seq) pair reused.
 */
import type { BackoffOptions } from './backoff.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { ClientDocument } from './client-document.js';
import type { SyncOptions } from './document-sync.js';
import type { PresenceOptions } from './presence.js';
import { DocumentSync } from './document-sync.js';
import { Emitter } from './emitter.js';
import { CollabClientError } from './errors.js';
import { budgetFromLimits } from './op-budget.js';
import type { ClientMessage, ServerMessage, WireLimits } from '@collab/protocol';
import { AUTH_CODES, PROTOCOL_VERSION } from '@collab/protocol';
import type { Scheduler } from './scheduler.js';
import { realScheduler } from './scheduler.js';
import type { SocketConstructor, SocketLike } from './socket.js';
import { OPEN } from './socket.js';

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'reconnecting' | 'closed';

export interface CollabClientOptions {
  url: string;
  /** A token, or a function that returns a fresh one (called on every (re)connection). */
  token: string | (() => Promise<string>);
  /** The WebSocket constructor; default `globalThis.WebSocket` (browsers, Node 22+). In Node 20 pass `ws`. */
  WebSocket?: SocketConstructor;
  /** Default: a random UUID. Never reuse one across client instances: the server dedupes by (user, clientId, seq). */
  clientId?: string;
  reconnect?: Partial<BackoffOptions>;
  /** Timers and clock (tests drive these by hand). */
  scheduler?: Scheduler;
  /** Randomness for backoff jitter (tests seed it). */
  random?: () => number;
  /** Give up on a connection that has not been welcomed after this long (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Per-document options (pending limit, retry delays). */
  document?: SyncOptions;
  /** How others see us (name when the token has none, colour) and how often cursor updates go out. */
  presence?: PresenceOptions;
}

export interface ClientEvents {
  state: { state: ConnectionState; attempt: number; delayMs?: number };
  /** Local edits waiting for their ack, over all documents. */
  pending: { count: number };
  welcome: { userId: string; sessionId: string; limits: WireLimits };
  /** A server error not about one document, or a connection problem. */
  error: { code: string; message: string; docId?: string };
}

interface OpenDocument {
  sync: DocumentSync;
  ready: Promise<ClientDocument>;
}

export class CollabClient {
  readonly events = new Emitter<ClientEvents>();
  readonly clientId: string;
  private readonly documents = new Map<string, OpenDocument>();
  /** Last seq used per document: outlives the document's own state (close and open again must not reuse seqs). */
  private readonly seqs = new Map<string, number>();
  private socket: SocketLike | undefined;
  private stateValue: ConnectionState = 'connecting';
  private attempt = 0;
  private limits: WireLimits | undefined;
  private userId: string | undefined;
  private heartbeatMs = 0;
  private lastReceived = 0;
  private lastSent = 0;
  private cancelTimer: (() => void) | undefined;
  private readonly backoff: BackoffOptions;
  private readonly scheduler: Scheduler;
  private readonly random: () => number;
  private readonly WebSocketImpl: SocketConstructor;

  constructor(private readonly options: CollabClientOptions) {
    const ws = options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (typeof ws !== 'function') {
      throw new CollabClientError('ERR_NO_WEBSOCKET', 'No WebSocket here: pass one (in Node 20, `ws`).');
    }
    this.WebSocketImpl = ws as SocketConstructor;
    this.clientId = options.clientId ?? randomId();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.scheduler = options.scheduler ?? realScheduler;
    this.random = options.random ?? Math.random;
    // Next microtask, so that listeners attached right after construction see 'connecting'.
    queueMicrotask(() => void this.connect());
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Local edits not yet acknowledged, over all documents. */
  get pendingCount(): number {
    let n = 0;
    for (const { sync } of this.documents.values()) n += sync.pendingCount;
    return n;
  }

  /** Open a document (or get the one already open). Resolves once its text is loaded. */
  openDocument(docId: string): Promise<ClientDocument> {
    if (this.stateValue === 'closed') {
      return Promise.reject(new CollabClientError('ERR_CLIENT_CLOSED', 'The client is closed.'));
    }
    const existing = this.documents.get(docId);
    if (existing !== undefined) return existing.ready;
    const sync = new DocumentSync(
      docId,
      {
        clientId: this.clientId,
        newClientId: randomId,
        nextSeq: () => {
          const seq = (this.seqs.get(docId) ?? 0) + 1;
          this.seqs.set(docId, seq);
          return seq;
        },
        send: (message) => this.send(message),
        reconnect: (reason) => this.drop(this.socket, reason),
        schedule: (ms, fn) => this.scheduler.schedule(ms, fn),
        userId: () => this.userId,
        now: () => this.scheduler.now(),
      },
      {
        ...this.options.document,
        ...(this.options.presence === undefined ? {} : { presence: this.options.presence }),
        ...(this.limits === undefined ? {} : { budget: budgetFromLimits(this.limits) }),
      },
    );
    const doc = new ClientDocument(sync, () => this.closeDocument(docId));
    const ready = new Promise<ClientDocument>((resolve, reject) => {
      const offLoad = sync.events.once('load', () => {
        offError();
        resolve(doc);
      });
      const offError = sync.events.on('error', (e) => {
        if (e.retriable) return;
        offLoad();
        offError();
        this.documents.delete(docId);
        sync.close();
        reject(new CollabClientError(e.code, e.message));
      });
    });
    sync.events.on('pending', () => this.events.emit('pending', { count: this.pendingCount }));
    this.documents.set(docId, { sync, ready });
    if (this.stateValue === 'online') sync.connected();
    return ready;
  }

  /** Close the connection for good. Documents report their unsent work ('unsent' events) as they close. */
  close(): void {
    if (this.stateValue === 'closed') return;
    for (const { sync } of this.documents.values()) sync.close();
    this.documents.clear();
    this.setState('closed');
    this.stopTimer();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'client closed');
  }

  private closeDocument(docId: string): void {
    const open = this.documents.get(docId);
    if (open === undefined) return;
    this.documents.delete(docId);
    open.sync.close();
    if (this.stateValue === 'online') this.send({ t: 'close', docId });
    this.events.emit('pending', { count: this.pendingCount });
  }

  // ---- connection lifecycle ------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = typeof this.options.token === 'string' ? this.options.token : await this.options.token();
    } catch (err) {
      this.events.emit('error', { code: 'ERR_TOKEN_UNAVAILABLE', message: `Getting a token failed: ${String(err)}` });
      return this.retryLater();
    }
    if (this.stateValue === 'closed') return;
    let socket: SocketLike;
    try {
      socket = new this.WebSocketImpl(this.options.url);
    } catch (err) {
      this.events.emit('error', { code: 'ERR_CONNECT', message: `Opening the WebSocket failed: ${String(err)}` });
      return this.retryLater();
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.send({ t: 'auth', token, protocol: PROTOCOL_VERSION });
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (this.socket !== socket) return; // a late frame from a connection we already gave up on
      this.lastReceived = this.scheduler.now();
      const message = parseServerMessage(event.data);
      if (message !== undefined) this.handle(message);
    };
    socket.onclose = () => this.lost(socket);
    socket.onerror = () => this.lost(socket);
    // Not welcomed in time: the server (or a proxy) is stuck. Drop it and try again.
    this.startTimer(this.options.handshakeTimeoutMs ?? 10_000, () => this.drop(socket, 'handshake timed out'));
  }

  private handle(message: ServerMessage): void {
    switch (message.t) {
      case 'welcome':
        return this.welcomed(message);
      case 'pong':
        return;
      case 'error':
        if (message.docId !== undefined) return this.route(message.docId, message);
        return this.connectionError(message);
      default:
        return this.route(message.docId, message);
    }
  }

  private route(docId: string, message: ServerMessage): void {
    this.documents.get(docId)?.sync.receive(message);
  }

  private welcomed(message: Extract<ServerMessage, { t: 'welcome' }>): void {
    this.limits = message.limits;
    this.userId = message.userId;
    this.heartbeatMs = message.heartbeatMs;
    this.attempt = 0;
    this.setState('online');
    this.events.emit('welcome', { userId: message.userId, sessionId: message.sessionId, limits: message.limits });
    this.heartbeat();
    const budget = budgetFromLimits(message.limits);
    for (const { sync } of this.documents.values()) {
      sync.setBudget(budget);
      sync.connected();
    }
  }

  private connectionError(message: Extract<ServerMessage, { t: 'error' }>): void {
    this.events.emit('error', { code: message.code, message: message.message });
    if (AUTH_CODES.has(message.code)) {
      // The token was refused or expired: a new connection fetches a new one.
      return this.drop(this.socket, message.code);
    }
    if (message.code === 'ERR_PROTOCOL_VERSION') return this.close();
    if (message.retriable) {
      // A frame was dropped (rate limit) and the server did not say which: repeat whatever waits for an answer.
      this.scheduler.schedule(message.retryAfterMs ?? 250, () => {
        if (this.stateValue === 'online') for (const { sync } of this.documents.values()) sync.nudge();
      });
    }
  }

  /**
   * Keep-alive, checked every half `heartbeatMs`: ping when the server has been silent (or we have) for a whole
   * period, and drop the connection once it has been silent for two — a half-open TCP connection never says it
   * is dead, so without this an unplugged cable would look like a quiet document forever.
   */
  private heartbeat(): void {
    if (this.heartbeatMs <= 0) return this.stopTimer();
    const socket = this.socket;
    this.startTimer(this.heartbeatMs / 2, () => {
      if (this.socket !== socket) return;
      const now = this.scheduler.now();
      if (now - this.lastReceived >= 2 * this.heartbeatMs) return this.drop(socket, 'server silent');
      if (now - this.lastReceived >= this.heartbeatMs || now - this.lastSent >= this.heartbeatMs) {
        this.send({ t: 'ping' });
      }
      this.heartbeat();
    });
  }

  private drop(socket: SocketLike | undefined, reason: string): void {
    if (socket === undefined || this.socket !== socket) return;
    socket.close(4000, reason);
    this.lost(socket);
  }

  private lost(socket: SocketLike): void {
    if (this.socket !== socket) return; // already handled (onerror is followed by onclose)
    this.socket = undefined;
    socket.onopen = socket.onmessage = socket.onclose = null;
    // Not null: closing a socket that is still connecting (a handshake that timed out) makes Node's `ws` emit
    // 'error' afterwards, and an 'error' event with no listener throws — it took down the process using the SDK.
    socket.onerror = ignore;
    for (const { sync } of this.documents.values()) sync.disconnected();
    if (this.stateValue !== 'closed') this.retryLater();
  }

  private retryLater(): void {
    if (this.stateValue === 'closed') return;
    const delayMs = backoffDelay(this.backoff, this.attempt, this.random);
    this.attempt++;
    this.setState('offline', delayMs);
    this.startTimer(delayMs, () => void this.connect());
  }

  private send(message: ClientMessage): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) return; // documents re-send what matters on reconnect
    this.lastSent = this.scheduler.now();
    socket.send(JSON.stringify(message));
  }

  private setState(state: ConnectionState, delayMs?: number): void {
    this.stateValue = state;
    this.events.emit('state', { state, attempt: this.attempt, ...(delayMs === undefined ? {} : { delayMs }) });
  }

  /** One connection-level timer at a time: handshake timeout, heartbeat, or the backoff before reconnecting. */
  private startTimer(delayMs: number, fn: () => void): void {
    this.stopTimer();
    this.cancelTimer = this.scheduler.schedule(delayMs, () => {
      this.cancelTimer = undefined;
      fn();
    });
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}

const ignore = (): void => {};

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID();
  // Old browsers without randomUUID: 128 random bits are enough that two clients never share an id.
  let id = '';
  for (let i = 0; i < 4; i++)
    id += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return id;
}

/**
 * Parse a frame from the server. Anything that is not an object with a string `t` is dropped by the caller. The
 * rest is trusted to be what the server's schema allows (@collab/protocol/schemas): the SDK does not bundle zod.
 */
function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { t?: unknown }).t !== 'string') return undefined;
  return raw as ServerMessage;
}
