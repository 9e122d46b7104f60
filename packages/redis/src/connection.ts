/**
 * Connection settings with every bound explicit. ioredis by default waits forever to connect, never times out a
 * command, and retries a queued command through 20 reconnects: a request could hang for minutes while Redis is
 * down. Presence is ephemeral and a caller can always retry, so we fail fast instead.
 */
import { CollabError } from '@collab/core';
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisTimeouts {
  /** TCP connect per attempt. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** One command, from sending to its reply (also SUBSCRIBE). Default 2000 ms. */
  commandTimeoutMs?: number;
  /**
   * Reconnect attempts a queued command waits through before failing with ERR_UNAVAILABLE. Default 2. The
   * connection itself keeps reconnecting (backoff 50 ms × attempt, at most 1 s) for as long as the bus is open.
   */
  maxRetriesPerRequest?: number;
}

export const DEFAULT_REDIS_TIMEOUTS: Required<RedisTimeouts> = {
  connectTimeoutMs: 2_000,
  commandTimeoutMs: 2_000,
  maxRetriesPerRequest: 2,
};

export function connectionOptions(timeouts: RedisTimeouts | undefined, connectionName: string): RedisOptions {
  const t = { ...DEFAULT_REDIS_TIMEOUTS, ...timeouts };
  return {
    connectTimeout: t.connectTimeoutMs,
    commandTimeout: t.commandTimeoutMs,
    maxRetriesPerRequest: t.maxRetriesPerRequest,
    retryStrategy: (attempt) => Math.min(attempt * 50, 1_000),
    // Re-SUBSCRIBE every channel after a reconnect (the default, spelled out because presence relies on it).
    autoResubscribe: true,
    connectionName,
  };
}

/** TLS of a rediss:// connection: PEM text; no `ca`: the system's roots; cert + key: a client certificate. */
export interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * A connection to `url` (redis:// or rediss://, with the ACL user and password in it if any). `tls` applies to a
 * rediss:// URL only: giving it for redis:// is refused rather than silently switching TLS on or off.
 */
export function connect(
  url: string,
  timeouts: RedisTimeouts | undefined,
  connectionName: string,
  extra: RedisOptions = {},
  tls?: RedisTls,
): Redis {
  const secure = url.startsWith('rediss:');
  if (tls !== undefined && !secure) {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'TLS settings need a rediss:// URL');
  }
  return new Redis(url, {
    ...connectionOptions(timeouts, connectionName),
    ...extra,
    ...(secure
      ? {
          tls: {
            // Spelled out: verification must never depend on a library default.
            rejectUnauthorized: true,
            ...(tls?.ca === undefined ? {} : { ca: [tls.ca] }),
            ...(tls?.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
          },
        }
      : {}),
  });
}
