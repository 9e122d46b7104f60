/**
 * Assembles a command-service instance from its parts: the op log (any OpLog adapter), token verification, the
 * document hub, the WebSocket edge, and the two log consumers — the group consumer that decides which partitions
 * this instance sequences, and a per-instance consumer that relays ops committed elsewhere to local subscribers.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, OpLog, SubmitLimits } from '@collab/core';
import type { Logger } from 'pino';
import type { TokenVerifierConfig } from './auth/tokens.js';
import { TokenVerifier } from './auth/tokens.js';
import { DocumentHub } from './documents/document-hub.js';
import type { SessionLimits } from './session/session.js';
import { Session } from './session/session.js';
import type { HttpRoute } from './transport/http-routes.js';
import type { WsServer } from './transport/uws-server.js';
import { startWsServer } from './transport/uws-server.js';

export interface CommandServiceOptions {
  log: OpLog;
  logger: Logger;
  host: string;
  port: number;
  instanceId?: string | undefined;
  auth: TokenVerifierConfig;
  /** Consumer group whose partition assignment decides who sequences what. */
  consumerGroup: string;
  /** Take every partition without a consumer group (the embedded, single-process mode). */
  ownAllPartitions?: boolean;
  window: number;
  hashEvery: number;
  limits: SessionLimits & SubmitLimits;
  idleTimeoutSeconds: number;
  /** HTTP routes served beside the WebSocket endpoint: the read API, the web page, dev tokens. */
  httpRoutes?: readonly HttpRoute[];
  now?: () => number;
}

export interface CommandService {
  readonly port: number;
  readonly hub: DocumentHub;
  /** Graceful stop: no new connections, release partitions (closing writers), stop consumers. Idempotent. */
  close(): Promise<void>;
}

export async function startCommandService(options: CommandServiceOptions): Promise<CommandService> {
  const now = options.now ?? Date.now;
  const instanceId = options.instanceId ?? randomUUID();
  const logger = options.logger.child({ instance: instanceId });
  const verifier = await TokenVerifier.create(options.auth);
  const hub = new DocumentHub(
    options.log,
    {
      window: options.window,
      catchupLimit: options.window,
      hashEvery: options.hashEvery,
      limits: options.limits,
      now,
    },
    logger,
  );

  const consumers: Consumer[] = [];
  if (options.ownAllPartitions === true) {
    await hub.takeOwnership([...Array(options.log.partitionCount).keys()]);
  } else {
    consumers.push(
      await options.log.consume({
        groupId: options.consumerGroup,
        fromBeginning: false,
        onAssigned: (partitions) => hub.takeOwnership(partitions),
        onRevoked: (partitions) => hub.releaseOwnership(partitions),
        handler: async (records, context) => {
          for (const r of records) await hub.applyCommitted(r.value);
          const last = records[records.length - 1];
          if (last !== undefined) context.checkpoint(last.offset);
        },
      }),
    );
    // Relay what other instances commit to our subscribers of documents we do not sequence.
    consumers.push(
      await options.log.consume({
        groupId: `${options.consumerGroup}-relay-${instanceId}`,
        fromBeginning: false,
        handler: async (records, context) => {
          for (const r of records) await hub.applyCommitted(r.value);
          const last = records[records.length - 1];
          if (last !== undefined) context.checkpoint(last.offset);
        },
      }),
    );
  }

  const ws: WsServer = await startWsServer({
    host: options.host,
    port: options.port,
    hardMaxFrameBytes: options.limits.maxFrameBytes * 4,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    maxBackpressureBytes: 16 * 1024 * 1024,
    logger,
    httpRoutes: options.httpRoutes ?? [],
    createSession: (transport) =>
      new Session(transport, {
        hub,
        verifier,
        limits: options.limits,
        heartbeatMs: (options.idleTimeoutSeconds * 1000) / 2,
        now,
        logger,
      }),
  });
  logger.info({ port: ws.port }, 'command-service listening');

  let closing: Promise<void> | undefined;
  return {
    port: ws.port,
    hub,
    close: () =>
      (closing ??= (async () => {
        await ws.close();
        await Promise.all(
          consumers.map((c) => c.stop().catch((err: unknown) => logger.warn({ err }, 'consumer stop failed'))),
        );
        await hub.closeAll();
        logger.info('command-service stopped');
      })()),
  };
}
