/**
 * A small ShareDB-style client for failover tests (the SDK, @collab/client, is not committed yet): per document
 * one op in flight and one composed buffer; remote ops transform both (the server puts the incoming op on the
 * left, so the pending ops take the left side here too); its own (clientId, seq) seen as an op is its ack; on a
 * reconnect it reopens each document at its version, folds in the catch-up and resends the op in flight with the
 * same seq. Everything it was told is recorded so a test can check it against the log.
 */
import { randomUUID } from 'node:crypto';
import type { TextOp } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import WebSocket from 'ws';
import type { Message } from './raw-client.js';

interface InFlight {
  seq: number;
  op: TextOp;
}

export interface DocReplica {
  docId: string;
  version: number;
  text: string;
  inflight: InFlight | undefined;
  buffer: TextOp | undefined;
  nextSeq: number;
  /** (seq → version) of every op acknowledged to this client, whichever way the ack came. */
  acked: Map<number, number>;
  opened: boolean;
  /** The last events of this replica, for the message of a failing test. */
  trail: string[];
}

const apply = (text: string, op: TextOp): string => type.apply(text, op).toString();

export class DocClient {
  readonly clientId = `c-${randomUUID().slice(0, 8)}`;
  readonly docs = new Map<string, DocReplica>();
  /** Every error the server sent, and anything this client found wrong (a protocol anomaly). */
  readonly errors: Message[] = [];
  readonly anomalies: string[] = [];
  reconnects = 0;
  private ws: WebSocket | undefined;
  private stopped = false;
  private urlIndex = 0;

  /** `urls()` gives the instances to try, in order; a reconnect moves on to the next one. */
  constructor(
    private readonly urls: () => string[],
    private readonly token: string,
  ) {}

  async start(docIds: readonly string[]): Promise<void> {
    for (const docId of docIds) {
      this.docs.set(docId, {
        docId,
        version: 0,
        text: '',
        inflight: undefined,
        buffer: undefined,
        nextSeq: 1,
        acked: new Map(),
        opened: false,
        trail: [],
      });
    }
    await this.connect();
  }

  get url(): string {
    const urls = this.urls();
    return urls[this.urlIndex % urls.length]!;
  }

  /** Nothing in flight or buffered in any document. */
  get idle(): boolean {
    return [...this.docs.values()].every((d) => d.opened && d.inflight === undefined && d.buffer === undefined);
  }

  /** A random local edit: insert a few letters, or delete a little. */
  edit(docId: string, random: () => number): void {
    const doc = this.docs.get(docId)!;
    if (!doc.opened) return;
    const length = doc.text.length;
    const pos = Math.floor(random() * (length + 1));
    let op: TextOp;
    if (length > 0 && random() < 0.3) {
      const n = Math.min(1 + Math.floor(random() * 3), length - pos);
      op = n > 0 ? type.normalize([pos, { d: n }]) : type.normalize([pos, String.fromCharCode(97 + (pos % 26))]);
    } else {
      const s = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        String.fromCharCode(97 + Math.floor(random() * 26)),
      ).join('');
      op = type.normalize([pos, s]);
    }
    doc.text = apply(doc.text, op);
    doc.buffer = doc.buffer === undefined ? op : type.compose(doc.buffer, op);
    this.flush(doc);
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.open(this.url);
        return;
      } catch {
        this.urlIndex++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1_000)));
      }
    }
  }

  private open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('error', reject);
      ws.once('open', () => {
        this.ws = ws;
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as Message;
          const doc = typeof m.docId === 'string' ? this.docs.get(m.docId) : undefined;
          doc?.trail.push(`${m.t} ${JSON.stringify(m).slice(0, 160)} @v${doc.version} inflight=${doc.inflight?.seq}`);
          if (doc !== undefined && doc.trail.length > 60) doc.trail.shift();
          try {
            this.receive(m);
          } catch (err) {
            this.anomalies.push(`${String(err)}\n  ${doc?.trail.join('\n  ') ?? ''}`);
          }
        });
        ws.on('close', () => {
          if (this.ws !== ws || this.stopped) return;
          this.ws = undefined;
          for (const d of this.docs.values()) d.opened = false;
          this.reconnects++;
          this.urlIndex++;
          void this.connect();
        });
        ws.on('error', () => {});
        this.send({ t: 'auth', token: this.token, protocol: 1 });
        resolve();
      });
    });
  }

  private send(message: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private flush(doc: DocReplica): void {
    if (!doc.opened || doc.inflight !== undefined || doc.buffer === undefined) return;
    doc.inflight = { seq: doc.nextSeq++, op: doc.buffer };
    doc.buffer = undefined;
    this.submit(doc);
  }

  private submit(doc: DocReplica): void {
    const f = doc.inflight!;
    doc.trail.push(`send seq ${f.seq} base ${doc.version} ${JSON.stringify(f.op)}`);
    this.send({
      t: 'submit',
      docId: doc.docId,
      clientId: this.clientId,
      seq: f.seq,
      baseVersion: doc.version,
      op: f.op,
    });
  }

  private acknowledge(doc: DocReplica, seq: number, version: number): void {
    if (doc.inflight?.seq !== seq) return; // a late duplicate ack of an op already acknowledged
    if (version !== doc.version + 1) this.anomalies.push(`${doc.docId}: ack v${version} at v${doc.version}`);
    doc.acked.set(seq, version);
    doc.version = version;
    doc.inflight = undefined;
    this.flush(doc);
  }

  private remote(doc: DocReplica, op: { version: number; op: TextOp; clientId: string; seq: number }): void {
    if (op.version <= doc.version) return;
    if (op.clientId === this.clientId && doc.inflight?.seq === op.seq) {
      this.acknowledge(doc, op.seq, op.version);
      return;
    }
    if (op.version !== doc.version + 1) {
      this.anomalies.push(`${doc.docId}: op v${op.version} at v${doc.version}`);
      return;
    }
    let incoming = op.op;
    if (doc.inflight !== undefined) {
      const mine = doc.inflight.op;
      doc.inflight.op = type.transform(mine, incoming, 'left');
      incoming = type.transform(incoming, mine, 'right');
    }
    if (doc.buffer !== undefined) {
      const mine = doc.buffer;
      doc.buffer = type.transform(mine, incoming, 'left');
      incoming = type.transform(incoming, mine, 'right');
    }
    doc.text = apply(doc.text, incoming);
    doc.version = op.version;
  }

  private receive(m: Message): void {
    if (m.t === 'welcome') {
      for (const doc of this.docs.values()) {
        this.send(
          doc.version === 0 && doc.nextSeq === 1
            ? { t: 'open', docId: doc.docId }
            : { t: 'open', docId: doc.docId, version: doc.version },
        );
      }
      return;
    }
    const doc = typeof m.docId === 'string' ? this.docs.get(m.docId) : undefined;
    switch (m.t) {
      case 'snapshot':
        if (doc === undefined) return;
        if (doc.inflight !== undefined || doc.buffer !== undefined || doc.version !== 0) {
          this.anomalies.push(`${doc.docId}: unexpected snapshot at v${doc.version}\n  ${doc.trail.join('\n  ')}`);
          return;
        }
        doc.text = String(m.text);
        doc.version = Number(m.version);
        this.opened(doc);
        return;
      case 'catchup':
        if (doc === undefined) return;
        for (const op of m.ops as Array<{ version: number; op: TextOp; clientId: string; seq: number }>) {
          this.remote(doc, op);
        }
        this.opened(doc);
        return;
      case 'op':
        if (doc !== undefined)
          this.remote(doc, m as unknown as { version: number; op: TextOp; clientId: string; seq: number });
        return;
      case 'ack':
        if (doc !== undefined) this.acknowledge(doc, Number(m.seq), Number(m.version));
        return;
      case 'resync':
        if (doc !== undefined) this.anomalies.push(`${doc.docId}: resync (${String(m.reason)})`);
        return;
      case 'error': {
        this.errors.push(m);
        if (doc === undefined || typeof m.seq !== 'number') {
          this.anomalies.push(`error without a request: ${JSON.stringify(m)}`);
          return;
        }
        if (m.retriable !== true) {
          this.anomalies.push(`non-retriable error: ${JSON.stringify(m)}`);
          return;
        }
        // Resend the same op (same seq), rebased on what we have now, after the advised pause.
        const seq = m.seq;
        setTimeout(
          () => {
            if (doc.opened && doc.inflight?.seq === seq) this.submit(doc);
          },
          typeof m.retryAfterMs === 'number' ? m.retryAfterMs : 100,
        );
        return;
      }
      default:
        return;
    }
  }

  private opened(doc: DocReplica): void {
    const wasOpen = doc.opened;
    doc.opened = true;
    if (!wasOpen && doc.inflight !== undefined) this.submit(doc); // the resend after a reconnect, same seq
    this.flush(doc);
  }
}
