/**
 * The WebSocket edge on uWebSockets.js. It owns only transport concerns — frames in, frames out, keep-alive,
 * idle timeouts, backpressure — and hands every frame to a transport-independent Session.
 */
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { Session, Transport } from '../session/session.js';
import { instruments } from '../telemetry.js';
import type { HttpRoute } from './http-routes.js';
import { mountRoutes } from './http-routes.js';

export interface WsServerOptions {
  host: string;
  port: number;
  /** Frames larger than this close the connection outright (the session rejects smaller oversized ones). */
  hardMaxFrameBytes: number;
  /** Seconds without traffic before the connection is closed; pings are sent automatically before that. */
  idleTimeoutSeconds: number;
  /** Bytes queued for a slow client before it is disconnected (it will reconnect and catch up). */
  maxBackpressureBytes: number;
  createSession: (transport: Transport) => Session;
  logger: Logger;
  /** HTTP routes served beside the WebSocket endpoint (read API, the web page, dev tokens). */
  httpRoutes?: readonly HttpRoute[];
  /** Raw access to the uWS app for routes that need it (registered before `httpRoutes`). */
  routes?: (app: uWS.TemplatedApp) => void;
}

interface SocketData {
  session?: Session;
  closed: boolean;
}

export interface WsServer {
  readonly port: number;
  /** Stop listening and close every connection. Idempotent. */
  close(): Promise<void>;
}

export const WS_PATH = '/v1/ws';

export function startWsServer(options: WsServerOptions): Promise<WsServer> {
  const app = uWS.App();
  const sockets = new Set<uWS.WebSocket<SocketData>>();

  app.ws<SocketData>(WS_PATH, {
    maxPayloadLength: options.hardMaxFrameBytes,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    compression: 0, // uWS.DISABLED: per-message deflate costs CPU and latency for small frames
    upgrade: (res, req, context) => {
      res.upgrade<SocketData>(
        { closed: false },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      sockets.add(ws);
      instruments.connections.add(1);
      const data = ws.getUserData();
      const transport: Transport = {
        send: (message: ServerMessage) => {
          if (!data.closed) ws.send(JSON.stringify(message), false);
        },
        // Outside a uWS callback every send is its own syscall: corked, a batch of frames is one write.
        sendEncoded: (frames: readonly string[]) => {
          if (data.closed) return;
          if (frames.length === 1) ws.send(frames[0]!, false);
          else
            ws.cork(() => {
              for (const frame of frames) ws.send(frame, false);
            });
        },
        close: (code, reason) => {
          if (!data.closed) ws.end(code, reason);
        },
      };
      data.session = options.createSession(transport);
    },
    message: (ws, message, isBinary) => {
      // uWS reuses `message` after this callback returns: copy it out before anything asynchronous.
      const frame = isBinary ? message.slice(0) : Buffer.from(message).toString('utf8');
      void ws.getUserData().session?.receive(frame);
    },
    close: (ws, code) => {
      sockets.delete(ws);
      instruments.connections.add(-1);
      const data = ws.getUserData();
      data.closed = true;
      options.logger.debug({ code, session: data.session?.id }, 'connection closed');
      void data.session?.disconnected();
    },
  });

  options.routes?.(app);
  mountRoutes(app, options.httpRoutes ?? [], options.logger);
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('not found');
  });

  return new Promise((resolve, reject) => {
    // Exclusive: a second server on the same port is refused with a clear error, where uWS would otherwise share
    // the port with it (SO_REUSEPORT) and split connections between two servers. (This build's typings lack the
    // options overload and the constant; the runtime has both.)
    const listen = app.listen.bind(app) as unknown as (
      host: string,
      port: number,
      options: number,
      cb: (token: uWS.us_listen_socket | false) => void,
    ) => void;
    const EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
    listen(options.host, options.port, EXCLUSIVE_PORT, (token) => {
      if (!token) {
        reject(new Error(`Cannot listen on ${options.host}:${options.port} (in use, or not allowed).`));
        return;
      }
      const port = uWS.us_socket_local_port(token);
      let closing: Promise<void> | undefined;
      resolve({
        port,
        close: () =>
          (closing ??= (async () => {
            uWS.us_listen_socket_close(token);
            for (const ws of sockets) ws.end(1001, 'server shutting down');
            sockets.clear();
          })()),
      });
    });
  });
}
