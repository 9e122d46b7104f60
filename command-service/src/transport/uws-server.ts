/**
 * The WebSocket edge on uWebSockets.js. It owns only transport concerns — who may connect (Host and Origin,
 * connection caps, the auth deadline), frames in, frames out, keep-alive, idle timeouts, backpressure — and hands
 * every frame to a transport-independent Session.
 */
import uWS from 'uWebSockets.js';
import type { ServerMessage } from '@collab/protocol';
import type { Session, Transport } from '../session/session.js';
import { instruments } from '../telemetry.js';
import type { ConnectionRefusalCode } from './connection-limits.js';
import {
  CLOSE_TRY_AGAIN_LATER,
  ConnectionCounter,
  connectionError,
  DEFAULT_CONNECTION_LIMITS,
  withAuthDeadline,
} from './connection-limits.js';
import { createAccessCheck } from './edge-access.js';
import { mountRoutes, refusalResponse, SECURITY_HEADERS } from './http-routes.js';
import type { WsServer, WsServerOptions } from './edge-server.js';
import { WS_PATH } from './edge-server.js';

interface SocketData {
  session?: Session;
  closed: boolean;
  /** The client's address, as counted against the per-address cap. */
  address: string;
  /** Set when a cap refused the connection: it is told why and closed at once, and was never counted. */
  refused?: ConnectionRefusalCode;
  cancelAuthDeadline?: () => void;
}

export function startUwsServer(options: WsServerOptions): Promise<WsServer> {
  const app = uWS.App();
  const sockets = new Set<uWS.WebSocket<SocketData>>();
  const limits = options.connections ?? DEFAULT_CONNECTION_LIMITS;
  const counter = new ConnectionCounter(limits);
  let boundPort = options.port;
  const checkAccess = createAccessCheck(options.host, options.access ?? {}, () => boundPort);

  app.ws<SocketData>(WS_PATH, {
    maxPayloadLength: options.hardMaxFrameBytes,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    compression: 0, // uWS.DISABLED: per-message deflate costs CPU and latency for small frames
    upgrade: (res, req, context) => {
      const refusal = checkAccess({ host: req.getHeader('host'), origin: req.getHeader('origin') });
      if (refusal !== undefined) {
        // Before any WebSocket exists: a page that may not connect learns nothing, not even a close reason.
        const response = refusalResponse(refusal);
        res.writeStatus('403 Forbidden');
        for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, ...response.headers })) res.writeHeader(k, v);
        res.end(response.body);
        return;
      }
      res.upgrade<SocketData>(
        { closed: false, address: '' },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const data = ws.getUserData();
      // Counted here, where `close` is sure to follow, and refused after the upgrade only to say why (a browser
      // sees a close reason, never an HTTP status): 1013, try again later.
      data.address = Buffer.from(ws.getRemoteAddressAsText()).toString();
      const refused = counter.admit(data.address);
      if (refused !== undefined) {
        data.refused = refused;
        ws.send(JSON.stringify(connectionError(refused)), false);
        ws.end(CLOSE_TRY_AGAIN_LATER, refused);
        return;
      }
      sockets.add(ws);
      instruments.connections.add(1);
      const socketTransport: Transport = {
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
      const { transport, cancel } = withAuthDeadline(socketTransport, limits.authTimeoutMs);
      data.cancelAuthDeadline = cancel;
      data.session = options.createSession(transport);
    },
    message: (ws, message, isBinary) => {
      // uWS reuses `message` after this callback returns: copy it out before anything asynchronous.
      const frame = isBinary ? message.slice(0) : Buffer.from(message).toString('utf8');
      void ws.getUserData().session?.receive(frame);
    },
    close: (ws, code) => {
      const data = ws.getUserData();
      data.closed = true;
      if (data.refused !== undefined) return; // never counted, never had a session
      sockets.delete(ws);
      counter.release(data.address);
      data.cancelAuthDeadline?.();
      instruments.connections.add(-1);
      options.logger.debug({ code, session: data.session?.id }, 'connection closed');
      void data.session?.disconnected();
    },
  });

  mountRoutes(app, options.httpRoutes ?? [], options.logger, checkAccess);
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.writeHeader(k, v);
    res.writeHeader('content-type', 'text/plain').end('not found');
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
      boundPort = port;
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
