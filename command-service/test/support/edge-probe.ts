/**
 * Requests as an attacker makes them, always to 127.0.0.1: any Host and Origin header (a DNS-rebinding page's
 * requests reach a loopback server saying `Host: evil.example`), WebSocket upgrades from another loopback source
 * address (127.0.0.2, ...: a second "client address" for the per-address cap without leaving this machine).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import { RawClient, ofType } from './raw-client.js';

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
export function wsTo(port: number, options: UpgradeOptions = {}): Promise<RawClient> {
  return RawClient.connect(`ws://127.0.0.1:${port}/v1/ws`, {
    ...(options.host === undefined ? {} : { headers: { Host: options.host } }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  });
}

/** Connect and authenticate; resolves once welcomed. */
export async function welcomedWs(port: number, token: string, options: UpgradeOptions = {}): Promise<RawClient> {
  const client = await wsTo(port, options);
  client.send({ t: 'auth', token, protocol: 1 });
  await client.next(ofType('welcome'));
  return client;
}

/** The connection is still open and served: a ping gets its pong. */
export async function answersPing(client: RawClient): Promise<boolean> {
  const id = Math.random().toString(36).slice(2);
  client.send({ t: 'ping', id });
  await client.next(ofType('pong', { id }));
  return true;
}
