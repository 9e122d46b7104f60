/** SDK clients for the presence integration tests, and awaiting what they show. */
import type { ClientDocument, RemoteUser } from '@collab/client';
import { CollabClient } from '@collab/client';
import WebSocket from 'ws';
import { signDevToken } from '../../src/auth/tokens.js';
import { SECRET } from './service.js';

export async function sdkClient(url: string, userId: string, name = userId): Promise<CollabClient> {
  const t = await signed(userId, name);
  return new CollabClient({
    url,
    token: t,
    WebSocket: WebSocket as never,
    reconnect: { initialMs: 50, maxMs: 500 },
    presence: { name },
  });
}

/** A token with a display name; `docs` defaults to read and write on everything. */
export function signed(
  userId: string,
  name: string,
  docs: Record<string, Array<'read' | 'write' | 'comment'>> = { '*': ['read', 'write'] },
): Promise<string> {
  return signDevToken({ secret: SECRET, userId, name, docs });
}

/** Resolve once `doc.others` satisfies `predicate` (checked now and on every 'presence' event). */
export function seen(
  doc: ClientDocument,
  predicate: (others: RemoteUser[]) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<RemoteUser[]> {
  return new Promise((resolve, reject) => {
    if (predicate(doc.others)) return resolve(doc.others);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; others: ${JSON.stringify(doc.others)}`));
    }, timeoutMs);
    const off = doc.on('presence', ({ users }) => {
      if (!predicate(users)) return;
      clearTimeout(timer);
      off();
      resolve(users);
    });
  });
}

export const byUser = (others: RemoteUser[], userId: string) => others.find((u) => u.userId === userId);

export type Message = Record<string, unknown> & { t: string };

/** A bare protocol client: any frame out, await what comes back, and a hard kill (no close frame). */
export class RawSocket {
  readonly received: Message[] = [];
  private waiters: Array<{ pred: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  private taken = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      this.received.push(message);
      this.wake();
    });
  }

  static connect(url: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message of type `t` after the last one taken. */
  next(t: string, timeoutMs = 10_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${t} within ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred: (m) => m.t === t,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.wake();
    });
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.taken < this.received.length) {
      const message = this.received[this.taken++]!;
      const waiter = this.waiters[0]!;
      if (waiter.pred(message)) {
        this.waiters.shift();
        waiter.resolve(message);
      }
    }
  }

  /** Cut the TCP connection without a close handshake, as a crash or a lost network would. */
  terminate(): void {
    this.ws.terminate();
  }

  close(): void {
    this.ws.close();
  }
}
