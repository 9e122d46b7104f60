/**
 * A bare protocol client for tests: send any frame (valid or not), await the messages that come back. Every frame
 * the server sends is checked against the protocol's schema (@collab/protocol/schemas): one it does not allow
 * fails the test at its next `next()`, so every test that reads raw frames also checks the server keeps to the wire.
 */
import { ServerMessage } from '@collab/protocol/schemas';
import WebSocket from 'ws';

export type Message = Record<string, unknown> & { t: string };

export class RawClient {
  private readonly inbox: Message[] = [];
  private waiters: Array<{ pred: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  /** Frames from the server that the protocol's schema does not allow. */
  private readonly violations: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      const checked = ServerMessage.safeParse(message);
      if (!checked.success) this.violations.push(`${String(data).slice(0, 300)}: ${checked.error.message}`);
      const waiter = this.waiters.find((w) => w.pred(message));
      if (waiter !== undefined) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      } else {
        this.inbox.push(message);
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** `options`: e.g. `headers: {Host}`, `origin`, `localAddress` (another loopback source address, 127.0.0.2). */
  static connect(url: string, options?: WebSocket.ClientOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new RawClient(ws); // listening from the start: a refusal arrives right after the upgrade
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendBinary(data: Buffer): void {
    this.ws.send(data);
  }

  /** The next message matching `pred` (already received or still to come), within `timeoutMs`. */
  next(pred: (m: Message) => boolean = () => true, timeoutMs = 10_000): Promise<Message> {
    if (this.violations.length > 0) {
      return Promise.reject(
        new Error(`the server sent frames its schema does not allow: ${this.violations.join('; ')}`),
      );
    }
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(`no matching message within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`),
        );
      }, timeoutMs);
      const done = (m: Message): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Messages received and not yet taken. */
  pending(): Message[] {
    return [...this.inbox];
  }

  close(): void {
    this.ws.close();
  }
}

export const ofType =
  (t: string, extra: Record<string, unknown> = {}) =>
  (m: Message): boolean =>
    m.t === t && Object.entries(extra).every(([k, v]) => m[k] === v);
