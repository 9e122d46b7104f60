/**
 * The WebSocket edge's contract, and which implementation serves it on this Node.js:
 *  - uWebSockets.js (uws-server.ts) when its native binary loads. The package ships binaries for Node 20 (ABI 115)
 *    only; on Node 22/24 its loader silently falls back to a JavaScript shim that hangs on wildcard routes and has
 *    no publish, so the shim is never used: the check below looks for the binary itself.
 *  - otherwise the `ws` package on node:http (node-ws-server.ts): the same routes, access checks, connection caps,
 *    auth deadline, frame limit, idle timeout and backpressure limit, at about 2.5× uWS's server CPU per message.
 * docs/operations.md, "Node.js versions", says which an operator gets and why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Session, Transport } from '../session/session.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { EdgeAccess } from './edge-access.js';
import type { HttpRoute } from './http-routes.js';

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
  /** Which Host and Origin headers the routes and the upgrade answer (see edge-access.ts). Default: {}. */
  access?: EdgeAccess;
  /** Connection caps and the auth deadline. Default: DEFAULT_CONNECTION_LIMITS. */
  connections?: ConnectionLimits;
  /** Which server (COLLAB_EDGE_TRANSPORT). Default 'auto'. */
  transport?: EdgeTransportChoice;
}

export interface WsServer {
  readonly port: number;
  /** Stop listening and close every connection. Idempotent. */
  close(): Promise<void>;
}

export const WS_PATH = '/v1/ws';

export type EdgeTransport = 'uws' | 'ws';
/** 'auto': uWebSockets.js when its binary loads on this Node.js, else ws. 'uws': that or a failed start. */
export type EdgeTransportChoice = 'auto' | EdgeTransport;

let chosen: EdgeTransport | undefined;

/** 'uws' when uWebSockets.js's native binary for this platform and Node.js ABI exists and loads, else 'ws'. */
export function edgeTransport(): EdgeTransport {
  return (chosen ??= nativeUwsLoads() ? 'uws' : 'ws');
}

function nativeUwsLoads(): boolean {
  const require = createRequire(import.meta.url);
  try {
    const { platform, arch, versions } = process;
    // The package's own loader (src/uws.js) requires ../binaries/uws_<platform>_<arch>_<abi>.node.
    const binary = join(
      dirname(require.resolve('uWebSockets.js')),
      '..',
      'binaries',
      `uws_${platform}_${arch}_${versions.modules}.node`,
    );
    if (!existsSync(binary)) return false;
    require(binary); // a binary that exists but cannot load here (glibc, ABI) counts as missing
    return true;
  } catch {
    return false;
  }
}

/** Start the edge on the server chosen (see above); says which it is when it is not uWebSockets.js. */
export async function startWsServer(options: WsServerOptions): Promise<WsServer> {
  const choice = options.transport ?? 'auto';
  const available = choice === 'ws' ? 'ws' : edgeTransport();
  if (choice === 'uws' && available !== 'uws') {
    const { platform, arch, version, versions } = process;
    throw new Error(
      `COLLAB_EDGE_TRANSPORT=uws: uWebSockets.js has no native binary for Node.js ${version} (ABI ` +
        `${versions.modules}, ${platform}-${arch}); its binaries cover Node 20. Run on Node 20, or set ` +
        'COLLAB_EDGE_TRANSPORT=auto or ws (the ws package, about 2.5× the server CPU per message).',
    );
  }
  if (choice !== 'ws' && available === 'uws') return (await import('./uws-server.js')).startUwsServer(options);
  options.logger.info(
    { transport: 'ws', node: process.version },
    choice === 'ws'
      ? 'serving WebSockets with the ws package (COLLAB_EDGE_TRANSPORT=ws)'
      : 'uWebSockets.js has no native binary for this Node.js: serving WebSockets with the ws package',
  );
  return (await import('./node-ws-server.js')).startNodeWsServer(options);
}
