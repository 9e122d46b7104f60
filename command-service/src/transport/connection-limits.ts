/**
 * How many WebSocket connections an instance holds, in all and per client address, and how long one may stay
 * unauthenticated. Without them a single client could open sockets until the process runs out of memory or file
 * descriptors, and keep each one alive for nothing by answering pings.
 */
import type { ServerMessage } from '@collab/protocol';
import { isRetriable } from '@collab/protocol';
import type { Transport } from '../session/session.js';

export interface ConnectionLimits {
  /** Connections open at once on this instance (COLLAB_MAX_CONNECTIONS). */
  max: number;
  /**
   * Connections open at once from one client address (COLLAB_MAX_CONNECTIONS_PER_IP). Behind a proxy or load
   * balancer every client has the proxy's address: raise it to `max` there and limit per client at the proxy.
   */
  maxPerAddress: number;
  /** A connection that has not authenticated (been welcomed) within this long is closed (COLLAB_AUTH_TIMEOUT_MS). */
  authTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { max: 10_000, maxPerAddress: 256, authTimeoutMs: 10_000 };

/** Close codes (RFC 6455 §7.4.1): the reason is the ERR_* code, after an `error` message saying the same. */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

export type ConnectionRefusalCode = 'ERR_SERVER_FULL' | 'ERR_TOO_MANY_CONNECTIONS';

/** Counts open connections, in all and per address; `admit` counts one in or says why not. */
export class ConnectionCounter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: Pick<ConnectionLimits, 'max' | 'maxPerAddress'>) {}

  admit(address: string): ConnectionRefusalCode | undefined {
    const fromAddress = this.byAddress.get(address) ?? 0;
    // The more specific reason first: a client over its own share is told so even when the instance is full too.
    if (fromAddress >= this.limits.maxPerAddress) return 'ERR_TOO_MANY_CONNECTIONS';
    if (this.total >= this.limits.max) return 'ERR_SERVER_FULL';
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    return undefined;
  }

  release(address: string): void {
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (fromAddress === 0) return;
    this.total--;
    if (fromAddress === 1) this.byAddress.delete(address);
    else this.byAddress.set(address, fromAddress - 1);
  }

  get open(): number {
    return this.total;
  }
}

const REFUSALS: Record<ConnectionRefusalCode, string> = {
  ERR_SERVER_FULL: 'This server holds as many connections as it may; try again later or another instance.',
  ERR_TOO_MANY_CONNECTIONS: 'Too many connections from your address; close one before opening another.',
};

/** The `error` message sent before closing a connection for one of these reasons. */
export function connectionError(
  code: ConnectionRefusalCode | 'ERR_AUTH_TIMEOUT',
  authTimeoutMs?: number,
): Extract<ServerMessage, { t: 'error' }> {
  const message =
    code === 'ERR_AUTH_TIMEOUT'
      ? `No valid auth message within ${authTimeoutMs} ms of connecting; the connection is closed.`
      : REFUSALS[code];
  return { t: 'error', code, message, retriable: isRetriable(code) };
}

/**
 * The transport a session gets, closing the connection unless the session welcomes it (a successful `auth`)
 * within `ms`. The deadline lives here, at the boundary, rather than in the session: pings — the application's and
 * the WebSocket's — are answered before auth and would otherwise keep an unauthenticated socket open forever.
 */
export function withAuthDeadline(transport: Transport, ms: number): { transport: Transport; cancel(): void } {
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    timer = undefined;
    transport.send(connectionError('ERR_AUTH_TIMEOUT', ms));
    transport.close(CLOSE_POLICY_VIOLATION, 'ERR_AUTH_TIMEOUT');
  }, ms);
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    cancel,
    transport: {
      ...transport,
      send: (message) => {
        if (message.t === 'welcome') cancel();
        transport.send(message);
      },
    },
  };
}
