/**
 * A light simulated user of our system (`--clients light`): protocol v1 frames over a raw `ws` socket and an
 * ot.js-style client (one op in flight, one composed buffer behind it), nothing else — no presence, no undo, no
 * event emitters, no hash checks. It exists so that one 2-core box can drive 1,000 users at the server: the SDK
 * mode (collab-user.ts) is the realistic client, and costs several times more per user.
 *
 * It keeps the SDK's guarantees that the measurements rely on: an op resent after a dropped socket keeps its
 * (clientId, seq), so the server answers a duplicate with the version it already has; a reconnect opens at the
 * version held and reads the catch-up, in which its own in-flight op, if it landed, counts as the ack.
 */
import { randomUUID } from 'node:crypto';
import { PROTOCOL_VERSION } from '@collab/protocol';
import { Doc, insertOp, removeOp, type as textType, type TextOp } from '@collab/ot-text';
import WebSocket from 'ws';
import type { Recorder } from '../recorder.js';
import type { SimConnection, SimDocument } from '../target.js';

/** The frames the light user reads; anything else (presence, hash) is skipped by its type prefix unparsed. */
type Incoming =
  | { t: 'welcome'; heartbeatMs: number }
  | { t: 'snapshot'; docId: string; version: number; text: string }
  | { t: 'catchup'; docId: string; version: number; ops: RemoteOp[] }
  | ({ t: 'op'; docId: string } & RemoteOp)
  | { t: 'ack'; docId: string; seq: number; version: number }
  | { t: 'resync'; docId: string }
  | { t: 'error'; code: string; retriable: boolean; retryAfterMs?: number; docId?: string; seq?: number }
  | { t: 'closed'; docId: string; reason?: string };

interface RemoteOp {
  version: number;
  op: TextOp;
  clientId: string;
  seq: number;
}

/** An op sent or waiting to be sent, and the keystrokes (their times) it carries. */
interface Outgoing {
  op: TextOp;
  seq: number;
  keystrokes: number[];
}

const RECONNECT_MS = 250;

export function connectLightUser(url: string, token: () => Promise<string>, recorder: Recorder): SimConnection {
  const docs = new Map<string, LightDocument>();
  let socket: WebSocket | undefined;
  let closed = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let lastSent = 0;
  let welcomed: (() => void) | undefined;
  let wasOnline = false;

  const send = (message: object) => {
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    lastSent = performance.now();
    return true;
  };

  const connect = async (): Promise<void> => {
    const ws = new WebSocket(url);
    socket = ws;
    const online = new Promise<void>((resolve, reject) => {
      welcomed = resolve;
      ws.once('error', reject);
    });
    ws.on('error', () => {}); // the 'close' that follows reconnects
    ws.on('open', () => {
      void token().then((t) => send({ t: 'auth', token: t, protocol: PROTOCOL_VERSION }));
    });
    ws.on('message', (data: WebSocket.RawData) => receive(String(data)));
    ws.on('close', () => {
      clearInterval(heartbeat);
      if (closed || socket !== ws) return;
      setTimeout(() => {
        if (!closed) connect().catch(() => undefined);
      }, RECONNECT_MS);
    });
    await online;
  };

  const receive = (text: string) => {
    // Presence and hashes are not this client's business: skip them before paying for a parse.
    if (text.startsWith('{"t":"presence') || text.startsWith('{"t":"hash"') || text.startsWith('{"t":"pong"')) return;
    const message = JSON.parse(text) as Incoming;
    switch (message.t) {
      case 'welcome':
        if (wasOnline) recorder.reconnects++;
        wasOnline = true;
        startHeartbeat(message.heartbeatMs);
        for (const doc of docs.values()) doc.reopen();
        welcomed?.();
        return;
      case 'error':
        if (message.docId !== undefined) docs.get(message.docId)?.error(message);
        else recorder.error(message.code);
        return;
      default:
        docs.get(message.docId)?.receive(message);
    }
  };

  const startHeartbeat = (ms: number) => {
    clearInterval(heartbeat);
    if (ms <= 0) return;
    heartbeat = setInterval(() => {
      if (performance.now() - lastSent >= ms) send({ t: 'ping' });
    }, ms / 2);
    heartbeat.unref();
  };

  const ready = connect();
  return {
    open: async (docId) => {
      await ready;
      const doc = new LightDocument(docId, send, recorder);
      docs.set(docId, doc);
      await doc.opened;
      return doc;
    },
    drop: () => socket?.terminate(),
    close: async () => {
      closed = true;
      clearInterval(heartbeat);
      socket?.close();
    },
  };
}

class LightDocument implements SimDocument {
  private doc = Doc.fromString('');
  private versionHeld = 0;
  private loaded = false;
  private inflight: Outgoing | undefined;
  private buffer: Outgoing | undefined;
  private nextSeq = 1;
  /** An open was sent and its snapshot or catch-up has not come: live ops and acks may run ahead of it. */
  private opening = true;
  private held: Exclude<Incoming, { t: 'welcome' } | { t: 'error' }>[] = [];
  private readonly clientId = randomUUID();
  private resolveOpened!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.resolveOpened = resolve));

  constructor(
    readonly docId: string,
    private readonly send: (message: object) => boolean,
    private readonly recorder: Recorder,
  ) {
    this.send({ t: 'open', docId });
  }

  get text(): string {
    return this.doc.toString();
  }
  get length(): number {
    return this.doc.length;
  }
  get version(): number {
    return this.versionHeld;
  }
  get pending(): number {
    return (this.inflight?.keystrokes.length ?? 0) + (this.buffer?.keystrokes.length ?? 0);
  }

  insert(offset: number, text: string): void {
    this.edit(insertOp(offset, text));
  }

  delete(offset: number, length: number): void {
    this.edit(removeOp(offset, length));
  }

  close(): void {
    this.send({ t: 'close', docId: this.docId });
  }

  /** A new socket: open at the version held; the catch-up says what became of the op in flight. */
  reopen(): void {
    this.opening = true;
    this.send(
      this.loaded ? { t: 'open', docId: this.docId, version: this.versionHeld } : { t: 'open', docId: this.docId },
    );
  }

  receive(message: Exclude<Incoming, { t: 'welcome' } | { t: 'error' }>): void {
    if (this.opening && (message.t === 'op' || message.t === 'ack')) {
      this.held.push(message);
      return;
    }
    switch (message.t) {
      case 'snapshot':
        this.doc = Doc.fromString(message.text);
        this.versionHeld = message.version;
        this.inflight = undefined;
        this.buffer = undefined;
        this.loaded = true;
        this.resolveOpened();
        return this.drainHeld();
      case 'catchup':
        for (const op of message.ops) this.integrate(op);
        this.resendInflight();
        return this.drainHeld();
      case 'op':
        return this.integrate(message);
      case 'ack':
        if (this.inflight?.seq !== message.seq || message.version <= this.versionHeld) return;
        // Ops before ours that we have not seen: catch up (the catch-up holds our op too, and counts as its ack).
        if (message.version > this.versionHeld + 1) return this.reopen();
        return this.acked(message.version);
      case 'resync':
        this.loaded = false;
        return this.reopen();
      case 'closed':
        if (message.reason !== undefined) this.recorder.error(message.reason);
    }
  }

  /** The open is answered: what arrived ahead of it, in order (integrate skips what the answer already held). */
  private drainHeld(): void {
    this.opening = false;
    const held = this.held;
    this.held = [];
    for (const message of held) this.receive(message);
  }

  error(message: Extract<Incoming, { t: 'error' }>): void {
    this.recorder.error(message.code);
    if (message.seq === undefined || message.seq !== this.inflight?.seq) return;
    if (message.retriable) {
      setTimeout(() => this.resendInflight(), message.retryAfterMs ?? RECONNECT_MS);
    } else {
      // Refused for good: its keystrokes are gone; start again from the server's text.
      this.inflight = undefined;
      this.buffer = undefined;
      this.loaded = false;
      this.reopen();
    }
  }

  private edit(op: TextOp): void {
    const keystroke = this.recorder.keystroke();
    this.doc = textType.apply(this.doc, op);
    if (this.inflight === undefined) {
      this.inflight = { op, seq: this.nextSeq++, keystrokes: [keystroke] };
      this.submit(this.inflight);
    } else if (this.buffer === undefined) {
      this.buffer = { op, seq: 0, keystrokes: [keystroke] };
    } else {
      this.buffer.op = textType.compose(this.buffer.op, op);
      this.buffer.keystrokes.push(keystroke);
    }
  }

  private submit(out: Outgoing): void {
    this.send({
      t: 'submit',
      docId: this.docId,
      clientId: this.clientId,
      seq: out.seq,
      baseVersion: this.versionHeld,
      op: out.op,
    });
  }

  private resendInflight(): void {
    if (this.inflight !== undefined) this.submit(this.inflight);
  }

  private acked(version: number): void {
    const done = this.inflight!;
    this.versionHeld = version;
    this.recorder.acked(this.docId, version, done.keystrokes);
    this.inflight = this.buffer === undefined ? undefined : { ...this.buffer, seq: this.nextSeq++ };
    this.buffer = undefined;
    if (this.inflight !== undefined) this.submit(this.inflight);
  }

  /** A committed op from the log: ours (in a catch-up, the ack we missed) or someone else's to transform past. */
  private integrate(remote: RemoteOp): void {
    if (remote.version <= this.versionHeld) return;
    if (remote.version > this.versionHeld + 1) return this.reopen(); // a gap: catch up from what we hold
    if (remote.clientId === this.clientId && remote.seq === this.inflight?.seq) return this.acked(remote.version);
    let op = remote.op;
    // The server ordered `remote` first: our pending ops go after it ('left' for ours, as the server transforms).
    if (this.inflight !== undefined) {
      const mine = textType.transform(this.inflight.op, op, 'left');
      op = textType.transform(op, this.inflight.op, 'right');
      this.inflight.op = mine;
    }
    if (this.buffer !== undefined) {
      const mine = textType.transform(this.buffer.op, op, 'left');
      op = textType.transform(op, this.buffer.op, 'right');
      this.buffer.op = mine;
    }
    this.doc = textType.apply(this.doc, op);
    this.versionHeld = remote.version;
    this.recorder.seenBy(this.docId, remote.version);
  }
}
