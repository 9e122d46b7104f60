/**
 * The WebSocket edge on node:http and the `ws` package, for a Node.js that uWebSockets.js has no binary for
 * (edge-server.ts chooses). Behaves as uws-server.ts does, seen from a client: the same HTTP routes with the same
 * security headers and 404/403/413/500 answers, Host and Origin checked before the upgrade, connection caps
 * refused with 1013 after it, the auth deadline, frames above `hardMaxFrameBytes` closing the connection (1009),
 * pings and the idle timeout, and a client whose queue passes `maxBackpressureBytes` disconnected.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerMessage } from '@collab/protocol';
import type { Transport } from '../session/session.js';
import { instruments } from '../telemetry.js';
import {
  CLOSE_TRY_AGAIN_LATER,
  ConnectionCounter,
  connectionError,
  DEFAULT_CONNECTION_LIMITS,
  withAuthDeadline,
} from './connection-limits.js';
import type { AccessCheck } from './edge-access.js';
import { createAccessCheck } from './edge-access.js';
import type { WsServer, WsServerOptions } from './edge-server.js';
import { WS_PATH } from './edge-server.js';
import type { HttpResponse, HttpRoute } from './http-routes.js';
import { BodyCollector, INTERNAL_ERROR, refusalResponse, SECURITY_HEADERS } from './http-routes.js';

const NOT_FOUND: HttpResponse = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };

export function startNodeWsServer(options: WsServerOptions): Promise<WsServer> {
  const limits = options.connections ?? DEFAULT_CONNECTION_LIMITS;
  const counter = new ConnectionCounter(limits);
  let boundPort = options.port;
  const checkAccess = createAccessCheck(options.host, options.access ?? {}, () => boundPort);
  const sockets = new Set<WebSocket>();
  const lastHeard = new Map<WebSocket, number>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.hardMaxFrameBytes,
    perMessageDeflate: false, // as uWS: compression costs CPU and latency for small frames
    clientTracking: false,
  });
  const server = createServer(httpHandler(options.httpRoutes ?? [], options.logger, checkAccess));
  server.on('clientError', (_err, socket) => socket.destroy());

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WS_PATH) {
      writeRaw(socket, NOT_FOUND);
      return;
    }
    const refusal = checkAccess({ host: req.headers.host, origin: req.headers.origin });
    if (refusal !== undefined) {
      // Before any WebSocket exists: a page that may not connect learns nothing, not even a close reason.
      writeRaw(socket, refusalResponse(refusal));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, req));
  });

  const onOpen = (ws: WebSocket, req: IncomingMessage): void => {
    ws.on('error', (err) => options.logger.debug({ err }, 'connection error'));
    const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const refused = counter.admit(address);
    if (refused !== undefined) {
      // Refused after the upgrade only to say why (a browser sees a close reason, never an HTTP status).
      ws.send(JSON.stringify(connectionError(refused)));
      ws.close(CLOSE_TRY_AGAIN_LATER, refused);
      return;
    }
    let closed = false;
    sockets.add(ws);
    lastHeard.set(ws, Date.now());
    instruments.connections.add(1);
    const send = (frame: string): void => {
      if (closed) return;
      ws.send(frame);
      // As uWS's closeOnBackpressureLimit: a client this far behind reconnects and catches up instead.
      if (ws.bufferedAmount > options.maxBackpressureBytes) ws.terminate();
    };
    const socketTransport: Transport = {
      send: (message: ServerMessage) => send(JSON.stringify(message)),
      sendEncoded: (frames: readonly string[]) => {
        for (const frame of frames) send(frame);
      },
      close: (code, reason) => {
        if (!closed) ws.close(code, reason);
      },
    };
    const { transport, cancel } = withAuthDeadline(socketTransport, limits.authTimeoutMs);
    const session = options.createSession(transport);
    const heard = () => void lastHeard.set(ws, Date.now());
    ws.on('pong', heard);
    ws.on('ping', heard);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      heard();
      const frame = isBinary ? new Uint8Array(data).buffer : data.toString('utf8');
      void session.receive(frame);
    });
    ws.on('close', (code: number) => {
      closed = true;
      sockets.delete(ws);
      lastHeard.delete(ws);
      counter.release(address);
      cancel();
      instruments.connections.add(-1);
      options.logger.debug({ code, session: session.id }, 'connection closed');
      void session.disconnected();
    });
  };

  // Pings at half the idle timeout; a connection silent (no frame, no pong) for the whole timeout is dropped.
  const idleMs = options.idleTimeoutSeconds * 1000;
  const keepAlive = setInterval(() => {
    const now = Date.now();
    for (const ws of sockets) {
      if (now - (lastHeard.get(ws) ?? now) >= idleMs) ws.terminate();
      else ws.ping();
    }
  }, idleMs / 2);
  keepAlive.unref();

  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      clearInterval(keepAlive);
      reject(new Error(`Cannot listen on ${options.host}:${options.port} (in use, or not allowed): ${err.message}`));
    });
    // Exclusive: a second server on the same port is refused, as with uws-server.ts.
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      boundPort = port;
      let closing: Promise<void> | undefined;
      resolve({
        port,
        close: () =>
          (closing ??= (async () => {
            clearInterval(keepAlive);
            server.close();
            server.closeIdleConnections();
            for (const ws of sockets) ws.close(1001, 'server shutting down');
            sockets.clear();
          })()),
      });
    });
  });
}

/** An HTTP answer written on a socket that asked to upgrade, then closed. */
function writeRaw(socket: Duplex, response: HttpResponse): void {
  const body = Buffer.from(response.body);
  const headers = { ...SECURITY_HEADERS, ...response.headers, 'content-length': String(body.byteLength) };
  const head = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`.trim()];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\nconnection: close\r\n\r\n`), body]));
}

/** A uWS pattern: an exact path, or a prefix ending in `/*`. */
function matches(pattern: string, path: string): boolean {
  if (pattern.endsWith('/*')) return path.startsWith(pattern.slice(0, -1));
  if (!pattern.includes('/:')) return path === pattern;
  // As uWS: a `:name` segment matches one non-empty segment.
  const want = pattern.split('/');
  const got = path.split('/');
  return want.length === got.length && want.every((w, i) => (w.startsWith(':') ? got[i] !== '' : w === got[i]));
}

function httpHandler(
  routes: readonly HttpRoute[],
  logger: Logger,
  checkAccess: AccessCheck,
): (req: IncomingMessage, res: ServerResponse) => void {
  // As uWS's router: exact patterns, then patterns with `:name` segments, then wildcards, whatever the order they
  // were given in.
  const rank = (pattern: string): number => (pattern.endsWith('*') ? 2 : pattern.includes('/:') ? 1 : 0);
  const ordered = [...routes].sort((a, b) => rank(a.pattern) - rank(b.pattern));
  return (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const [path = '/', query = ''] = (req.url ?? '/').split('?', 2) as [string?, string?];
    const respond = (response: HttpResponse): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(response.status, { ...SECURITY_HEADERS, ...response.headers });
      res.end(response.body);
    };
    const route = ordered.find(
      (r) => (r.method === 'any' || r.method.toUpperCase() === method) && matches(r.pattern, path),
    );
    if (route === undefined) {
      respond(NOT_FOUND);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const refusal = route.anyHost === true ? undefined : checkAccess(headers);
    if (refusal !== undefined) {
      respond(refusalResponse(refusal));
      return;
    }
    const request = { method, path, query: new URLSearchParams(query), headers };
    const run = (body: Buffer): void => {
      Promise.resolve()
        .then(() => route.handle({ ...request, body }))
        .then(respond, (err: unknown) => {
          logger.error({ err, path }, 'HTTP handler failed');
          respond(INTERNAL_ERROR);
        });
    };
    if (method === 'GET' || method === 'HEAD') {
      run(Buffer.alloc(0));
      return;
    }
    const body = new BodyCollector(
      route,
      request,
      run,
      (refusal) => {
        // The rest of the body is not read: answer, then drop the connection once the answer is out (destroying it
        // at once could lose the answer).
        respond({ ...refusal, headers: { ...refusal.headers, connection: 'close' } });
        res.once('finish', () => req.destroy());
      },
      logger,
    );
    req.on('data', (chunk: Buffer) => body.add(chunk, false));
    req.on('end', () => body.add(Buffer.alloc(0), true));
    req.on('error', () => {});
  };
}
