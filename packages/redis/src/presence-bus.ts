/**
 * PresenceBus over Redis. Names: keys.ts; the atomic store+publish and prune+read: scripts.ts; the shared,
 * reference-counted subscriber connection: subscriptions.ts; timeouts: connection.ts.
 *
 * Two connections per bus: one for commands (announce, leave, list; auto-pipelined), one in subscribe mode, opened
 * on the first subscribe. Pass `redis` to share a command connection you own: the bus then uses
 * `redis.duplicate()` for subscribing and never closes yours (its options are yours: enable auto-pipelining on it
 * for the batching).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CollabError, type PresenceBus, type PresenceEvent, type PresenceState } from '@collab/core';
import { connect, type RedisTimeouts, type RedisTls } from './connection.js';
import { redactUrl, toCollabError } from './errors.js';
import { checkKeyPrefix, docNames } from './keys.js';
import { silentLogger, type Logger } from '@collab/core';
import { ANNOUNCE, LEAVE, LIST } from './scripts.js';
import { SubscriberHub, type Listener } from './subscriptions.js';

export type RedisPresenceBusOptions = ({ url: string; redis?: undefined } | { redis: Redis; url?: undefined }) & {
  /** Prepended to every key and channel, e.g. "collab:" or a per-test-run prefix. No braces. */
  keyPrefix?: string;
  /** Ignored when `redis` is given (its own options apply, to the duplicate too). */
  timeouts?: RedisTimeouts;
  /** With a rediss:// `url`: the CA to verify the server with, and a client certificate if it asks for one. */
  tls?: RedisTls;
  /** CLIENT SETNAME of the connections: `<name>:cmd` and `<name>:sub`, to find them in CLIENT LIST. */
  connectionName?: string;
  logger?: Logger;
};

/** TTLs above this are almost certainly a unit mistake (seconds for milliseconds times 1000). */
const MAX_TTL_MS = 24 * 3600 * 1000;

interface PresenceCommands {
  presenceAnnounce(clients: string, states: string, ...args: string[]): Promise<number>;
  presenceLeave(clients: string, states: string, ...args: string[]): Promise<number>;
  presenceList(clients: string, states: string): Promise<string[]>;
}

export function createRedisPresenceBus(options: RedisPresenceBusOptions): PresenceBus {
  const prefix = options.keyPrefix ?? '';
  checkKeyPrefix(prefix);
  const logger = options.logger ?? silentLogger;
  const name = options.connectionName ?? `collab-presence-${randomUUID().slice(0, 8)}`;
  const ownsCommandConnection = options.redis === undefined;
  // Auto-pipelining: the commands issued in one turn of the event loop (the router announces a turn's updates
  // together) go out in one write, and queue while the previous batch is in flight, instead of one write each.
  const commands =
    options.redis ?? connect(options.url, options.timeouts, `${name}:cmd`, { enableAutoPipelining: true }, options.tls);
  const endpoint =
    options.url !== undefined
      ? redactUrl(options.url)
      : `${commands.options.host ?? '?'}:${commands.options.port ?? '?'}`;
  // Without an 'error' listener ioredis prints every failed reconnect to stderr; the failures reach callers
  // as rejected commands, so here they are only logged.
  // The last failure of either connection, until it is ready again: what a command that gave up waiting reports.
  let connectionError: unknown;
  const onError = (what: string) => (err: unknown) => {
    // ioredis also emits the "gave up" error of a failed command, which says nothing about the connection.
    if ((err as Error | undefined)?.name !== 'MaxRetriesPerRequestError') connectionError = err;
    logger.debug({ err, endpoint }, what);
  };
  commands.on('error', onError('presence: redis connection error'));
  commands.on('ready', () => (connectionError = undefined));
  const scripts = commands as unknown as PresenceCommands;
  commands.defineCommand('presenceAnnounce', { numberOfKeys: 2, lua: ANNOUNCE });
  commands.defineCommand('presenceLeave', { numberOfKeys: 2, lua: LEAVE });
  commands.defineCommand('presenceList', { numberOfKeys: 2, lua: LIST, readOnly: true });

  let hub: SubscriberHub | undefined;
  let subscriber: Redis | undefined;
  let closed: Promise<void> | undefined;

  function subscriberHub(): SubscriberHub {
    if (hub !== undefined) return hub;
    subscriber =
      options.redis?.duplicate({ connectionName: `${name}:sub` }) ??
      connect(options.url!, options.timeouts, `${name}:sub`, {}, options.tls);
    subscriber.on('error', onError('presence: subscriber error'));
    hub = new SubscriberHub(subscriber, logger);
    return hub;
  }

  async function run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (closed !== undefined) throw new CollabError('ERR_CLOSED', 'the Redis presence bus is closed');
    try {
      return await fn();
    } catch (err) {
      throw toCollabError(err, operation, endpoint, connectionError);
    }
  }

  return {
    async announce(docId, state, ttlMs) {
      const names = docNames(prefix, docId);
      checkState(state);
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
        throw new CollabError('ERR_INVALID_ARGUMENT', `ttlMs must be an integer in 1..${MAX_TTL_MS}, got ${ttlMs}`);
      }
      const stored: PresenceState = { clientId: state.clientId, userId: state.userId, data: state.data };
      const event: PresenceEvent = { kind: 'update', docId, state: stored };
      await run(`announce ${docId}`, () =>
        scripts.presenceAnnounce(
          names.clients,
          names.states,
          state.clientId,
          JSON.stringify(stored),
          String(ttlMs),
          names.channel,
          JSON.stringify(event),
        ),
      );
    },

    async leave(docId, clientId) {
      const names = docNames(prefix, docId);
      const event: PresenceEvent = { kind: 'leave', docId, clientId };
      await run(`leave ${docId}`, () =>
        scripts.presenceLeave(names.clients, names.states, clientId, names.channel, JSON.stringify(event)),
      );
    },

    async list(docId) {
      const names = docNames(prefix, docId);
      const raw = await run(`list ${docId}`, () => scripts.presenceList(names.clients, names.states));
      return raw.flatMap((json) => {
        try {
          return [JSON.parse(json) as PresenceState];
        } catch {
          logger.warn({ docId, json: json.slice(0, 200) }, 'presence: skipping an unreadable state');
          return [];
        }
      });
    },

    async subscribe(docId, listener) {
      const { channel } = docNames(prefix, docId);
      // A wrapper per call, so subscribing the same function twice gives two independent subscriptions.
      const own: Listener = (event) => listener(event);
      let subscriptions: SubscriberHub | undefined;
      await run(`subscribe ${docId}`, () => (subscriptions = subscriberHub()).add(channel, own));
      let unsubscribed = false;
      return async () => {
        if (unsubscribed) return;
        unsubscribed = true;
        await subscriptions?.remove(channel, own);
      };
    },

    close() {
      closed ??= (async () => {
        const quit = async (connection: Redis | undefined): Promise<void> => {
          if (connection === undefined) return;
          // QUIT waits for pending replies; a connection that is not up has nothing to wait for.
          if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
          else connection.disconnect();
        };
        await quit(subscriber);
        if (ownsCommandConnection) await quit(commands);
      })();
      return closed;
    },
  };
}

function checkState(state: PresenceState): void {
  if (
    typeof state !== 'object' ||
    state === null ||
    typeof state.clientId !== 'string' ||
    state.clientId.length === 0 ||
    typeof state.userId !== 'string' ||
    typeof state.data !== 'object' ||
    state.data === null
  ) {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'presence state needs a non-empty clientId, a userId and data');
  }
}
