/**
 * Requests as an attacker makes them, always to 127.0.0.1: any Host and Origin header (a DNS-rebinding page's
 * requests reach a loopback server saying `Host: evil.example`), WebSocket upgrades from another loopback source
 * address (127.0.0.2, ...: a second "client address" for the per-address cap without leaving this machine).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import WebSocket from 'ws';

export type Message = Record<string, unknown> & { t: string };

/** A bare protocol socket: send anything, await what comes back and how it closes. */
export class ProbeSocket {
  private readonly inbox: Message[] = [];
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private closeInfo: { code: number; reason: string } | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      const waiter = this.waiters.find((w) => w.pred(message));
      if (waiter === undefined) this.inbox.push(message);
      else {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve((this.closeInfo = { code, reason: String(reason) }))),
    );
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message of type `t` (already received or still to come), within `timeoutMs`. */
  next(t: string, extra: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<Message> {
    const pred = (m: Message): boolean => m.t === t && Object.entries(extra).every(([k, v]) => m[k] === v);
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      // Say what came instead (a refusal, an error) and whether the socket closed: a timeout alone explains nothing.
      const timer = setTimeout(() => {
        const got = this.inbox.map((m) => (typeof m.code === 'string' ? `${m.t} ${m.code}` : m.t)).join(', ');
        const closed = this.closeInfo === undefined ? 'open' : `closed ${this.closeInfo.code} ${this.closeInfo.reason}`;
        reject(new Error(`no ${t} within ${timeoutMs} ms (received: ${got || 'nothing'}; the socket is ${closed})`));
      }, timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
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

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The `code` of a JSON body, if it has one. */
  code?: string;
}

export function httpTo(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(body) as { code?: string }).code;
          } catch {
            code = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(code === undefined ? {} : { code }) });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface UpgradeOptions {
  host?: string;
  origin?: string;
  localAddress?: string;
}

/** A WebSocket to 127.0.0.1:port/v1/ws with these headers; rejects with "Unexpected server response: 403" if refused. */
export function wsTo(port: number, options: UpgradeOptions = {}): Promise<ProbeSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, {
      ...(options.host === undefined ? {} : { headers: { Host: options.host } }),
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    const socket = new ProbeSocket(ws); // listening from the start: a refusal arrives right after the upgrade
    ws.once('open', () => resolve(socket));
    ws.once('error', reject);
  });
}

/** Connect and authenticate; resolves once welcomed. */
export async function welcomedWs(port: number, token: string, options: UpgradeOptions = {}): Promise<ProbeSocket> {
  const client = await wsTo(port, options);
  client.send({ t: 'auth', token, protocol: 1 });
  await client.next('welcome');
  return client;
}

/** The connection is still open and served: a ping gets its pong. */
export async function answersPing(client: ProbeSocket): Promise<boolean> {
  const id = Math.random().toString(36).slice(2);
  client.send({ t: 'ping', id });
  await client.next('pong', { id });
  return true;
}
