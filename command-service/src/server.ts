/**
 * Assembles a command-service instance from its parts: the op log (any OpLog adapter), token verification, the
 * document hub, the WebSocket edge, and the consumers:
 *
 * - ownership: with a command bus (the multi-instance mode), the commands topic's consumer group — its
 *   assignment says which partitions this instance sequences, and its records are the submissions other
 *   instances forward to us; in the embedded mode (`ownAllPartitions`, one process), every partition;
 * - with a bus, a per-instance relay of the ops topic (ops committed elsewhere reach local subscribers, and commits
 *   of our forwards ack their senders) and a per-instance reader of the replies topic (rejections and duplicate
 *   acks of our forwards).
 */
import { randomUUID } from 'node:crypto';
import type { CommandBus, CommentLimits, Consumer, OpLog, PresenceBus, SubmitLimits } from '@collab/core';
import { tracedBatchHandler } from '@collab/observability';
import { PresenceRouter } from '@collab/presence-service';
import type { Logger } from 'pino';
import type { TokenVerifierConfig } from './auth/tokens.js';
import { TokenVerifier } from './auth/tokens.js';
import { createCommandHandler } from './documents/command-handler.js';
import { DocumentHub } from './documents/document-hub.js';
import type { DocumentSource } from './documents/document-source.js';
import { createLogSource } from './documents/log-source.js';
import { Forwarder } from './documents/forwarder.js';
import type { SessionLimits } from './session/session.js';
import { Session } from './session/session.js';
import type { ConnectionLimits } from './transport/connection-limits.js';
import { DEFAULT_CONNECTION_LIMITS } from './transport/connection-limits.js';
import type { EdgeAccess } from './transport/edge-access.js';
import { isLoopbackHost } from './transport/edge-access.js';
import type { HttpRoute } from './transport/http-routes.js';
import type { EdgeTransportChoice, WsServer } from './transport/edge-server.js';
import { startWsServer } from './transport/edge-server.js';
import { instruments, observeInstance, TRACER_NAME } from './telemetry.js';

export interface CommandServiceOptions {
  log: OpLog;
  logger: Logger;
  host: string;
  port: number;
  instanceId?: string | undefined;
  auth: TokenVerifierConfig;
  /** Consumer group whose partition assignment decides who sequences what. */
  consumerGroup: string;
  /**
   * Who sequences what, one of two modes (start fails with neither):
   * - `ownAllPartitions`: take every partition without a consumer group (the embedded, single-process mode);
   * - `bus`: the multi-instance mode: forward submissions for documents owned elsewhere, and take ownership from
   *   the commands topic's consumer group (`consumerGroup`). Its partitioning must match the log's.
   */
  ownAllPartitions?: boolean;
  bus?: CommandBus;
  /** A forwarded submission with no outcome within this long gets ERR_UNAVAILABLE (retriable). Default 10 s. */
  forwardTimeoutMs?: number;
  /** Ops kept in memory per open document (transforms, catch-up without storage). */
  window: number;
  /** A reconnecting client further behind than this gets the whole text (resync). Default: `window`. */
  catchupLimit?: number;
  /**
   * A catch-up whose ops take more bytes than this is replaced by the whole text. Default 4 MiB. Snapshots and
   * catch-ups larger than `limits.maxFrameBytes` go out in parts.
   */
  maxCatchupBytes?: number;
  /**
   * Where documents load from and where catch-up finds ops older than the window. Default: the op log alone
   * (a load scans the document's partition from offset 0). The distributed wiring passes the read side
   * (createReadSideSource: snapshot + read models + the log after the projection's committed offset).
   */
  documents?: DocumentSource;
  hashEvery: number;
  /**
   * Comment threads (docs/comments.md), with these limits; absent: comment commands are refused with
   * ERR_COMMENTS_DISABLED and change nothing. Only a log that stores comment events may enable them (the embedded
   * SQLite log and the Kafka log with the comment-event schema do).
   */
  comments?: CommentLimits;
  /** `opensPerSecond` defaults to DEFAULT_OPENS_PER_SECOND. */
  limits: Omit<SessionLimits, 'opensPerSecond'> & Partial<Pick<SessionLimits, 'opensPerSecond'>> & SubmitLimits;
  idleTimeoutSeconds: number;
  /** HTTP routes served beside the WebSocket endpoint: the read API, the web page, dev tokens. */
  httpRoutes?: readonly HttpRoute[];
  /**
   * Which Host names and browser Origins the routes and the WebSocket upgrade answer (transport/edge-access.ts).
   * Default: on a loopback `host`, localhost / 127.0.0.1 / [::1] with the bound port; on any other, every name.
   */
  access?: EdgeAccess;
  /** Connection caps (in all, per client address) and the auth deadline. Default: DEFAULT_CONNECTION_LIMITS. */
  connections?: Partial<ConnectionLimits>;
  /** The WebSocket server (transport/edge-server.ts, COLLAB_EDGE_TRANSPORT). Default 'auto'. */
  edgeTransport?: EdgeTransportChoice;
  /**
   * Presence (who is here, cursors): Redis in the distributed mode, in-process in the embedded one. Without it
   * presence messages are accepted and ignored. TTL default 5 s; updates per second per client default 20.
   */
  presence?: { bus: PresenceBus; ttlMs?: number; updatesPerSecond?: number };
  now?: () => number;
}

export const DEFAULT_OPENS_PER_SECOND = 10;
export const DEFAULT_MAX_CATCHUP_BYTES = 4 * 1024 * 1024;

export interface CommandService {
  readonly port: number;
  readonly instanceId: string;
  readonly hub: DocumentHub;
  /** Graceful stop: no new connections, release partitions (closing writers), stop consumers. Idempotent. */
  close(): Promise<void>;
}

export async function startCommandService(options: CommandServiceOptions): Promise<CommandService> {
  const now = options.now ?? Date.now;
  const limits = { ...options.limits, opensPerSecond: options.limits.opensPerSecond ?? DEFAULT_OPENS_PER_SECOND };
  const instanceId = options.instanceId ?? randomUUID();
  const logger = options.logger.child({ instance: instanceId });
  const verifier = await TokenVerifier.create(options.auth);
  const bus = options.ownAllPartitions === true ? undefined : options.bus;
  if (options.ownAllPartitions !== true && bus === undefined) {
    throw new Error('the command-service needs a command bus (several instances) or ownAllPartitions (one process)');
  }
  if (bus !== undefined && bus.partitionCount !== options.log.partitionCount) {
    throw new Error(
      `the command bus has ${bus.partitionCount} partitions and the op log ${options.log.partitionCount}: they must match`,
    );
  }
  const forwarder =
    bus === undefined
      ? undefined
      : new Forwarder(
          bus,
          instanceId,
          options.forwardTimeoutMs ?? 10_000,
          logger.child({ component: 'forwarder' }),
          now,
        );
  const documents = options.documents ?? createLogSource({ log: options.log, window: options.window });
  const hub = new DocumentHub(
    options.log,
    {
      window: options.window,
      catchupLimit: options.catchupLimit ?? options.window,
      maxCatchupBytes: options.maxCatchupBytes ?? DEFAULT_MAX_CATCHUP_BYTES,
      maxFrameBytes: limits.maxFrameBytes,
      hashEvery: options.hashEvery,
      limits,
      ...(options.comments === undefined ? {} : { commentLimits: options.comments }),
      now,
    },
    logger,
    (docId) => documents.load(docId),
    forwarder,
    (docId, from, to) => documents.opsBetween(docId, from, to),
  );

  const presence =
    options.presence === undefined
      ? undefined
      : new PresenceRouter({
          bus: options.presence.bus,
          // Cursors are moved through the instance's window of recent ops (the hub's replica).
          documents: {
            window: async (docId) => {
              const state = await hub.peek(docId);
              return state && { version: state.version, recent: state.recent, length: state.doc.length };
            },
          },
          ...(options.presence.ttlMs === undefined ? {} : { ttlMs: options.presence.ttlMs }),
          ...(options.presence.updatesPerSecond === undefined
            ? {}
            : { updatesPerSecond: options.presence.updatesPerSecond }),
          logger: logger.child({ component: 'presence' }),
          observer: {
            remoteDelivery: (ms) => instruments.presenceRemoteLag.record(ms / 1000),
            updateSent: (ms) => instruments.presenceUpdateLatency.record(ms / 1000),
            throttled: (outcome) => instruments.presenceThrottled.add(1, { outcome }),
          },
        });

  const unobserve = observeInstance({
    openDocuments: () => hub.openDocuments,
    ...(presence === undefined ? {} : { presenceMembers: () => presence.memberCounts() }),
  });

  const consumers: Consumer[] = [];
  const relay = () =>
    options.log.consume({
      // A group of this process's own (the instance id may be stable, a pod's name): the relay serves only this
      // process's sessions, so it starts at the end of the topic each time and commits nothing — an offset commit
      // per fetch was a write to __consumer_offsets per transaction, read back by nobody.
      groupId: `${options.consumerGroup}-relay-${instanceId}-${randomUUID()}`,
      fromBeginning: false,
      commitOffsets: false,
      // Delivery on this instance continues each op's trace (the batch's span links the records' traces).
      handler: tracedBatchHandler(TRACER_NAME, 'collab.relay', async (records, context) => {
        for (const r of records) await hub.applyCommitted(r.value);
        const last = records[records.length - 1];
        if (last !== undefined) context.checkpoint(last.offset);
      }),
    });
  if (bus === undefined) {
    await hub.takeOwnership([...Array(options.log.partitionCount).keys()]);
  } else {
    // Replies and the relay first: a forward made as soon as we accept clients must find its outcome.
    consumers.push(await bus.consumeReplies(instanceId, (reply) => void hub.settleReply(reply)));
    consumers.push(await relay());
    consumers.push(
      await bus.consumeCommands({
        groupId: options.consumerGroup,
        onAssigned: (partitions) => hub.takeOwnership(partitions),
        onRevoked: (partitions) => hub.releaseOwnership(partitions),
        handler: createCommandHandler({ hub, bus, instanceId, logger: logger.child({ component: 'commands' }) }),
      }),
    );
  }

  if (!isLoopbackHost(options.host) && options.access?.allowedHosts === undefined) {
    logger.warn(
      { host: options.host },
      'COLLAB_ALLOWED_HOSTS is not set on a non-loopback interface: requests for any Host name are answered ' +
        '(DNS rebinding can reach this server from browsers on its network); list the names clients use',
    );
  }
  // What an operator (or a test) asks an instance: who it is and what it sequences right now.
  const statusRoute: HttpRoute = {
    method: 'get',
    pattern: '/v1/status',
    handle: () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({
        instanceId,
        ownedPartitions: hub.ownedPartitions,
        openDocuments: hub.openDocuments,
        pendingForwards: forwarder?.pendingCount ?? 0,
      }),
    }),
  };
  const ws: WsServer = await startWsServer({
    host: options.host,
    port: options.port,
    hardMaxFrameBytes: limits.maxFrameBytes * 4,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    maxBackpressureBytes: 16 * 1024 * 1024,
    logger,
    httpRoutes: [statusRoute, ...(options.httpRoutes ?? [])],
    access: options.access ?? {},
    connections: { ...DEFAULT_CONNECTION_LIMITS, ...options.connections },
    transport: options.edgeTransport ?? 'auto',
    createSession: (transport) =>
      new Session(transport, {
        hub,
        verifier,
        limits,
        heartbeatMs: (options.idleTimeoutSeconds * 1000) / 2,
        now,
        logger,
        ...(presence === undefined ? {} : { presence }),
        ...(options.comments === undefined ? {} : { commentLimits: options.comments }),
      }),
  });
  logger.info({ port: ws.port }, 'command-service listening');

  let closing: Promise<void> | undefined;
  return {
    port: ws.port,
    instanceId,
    hub,
    close: () =>
      (closing ??= (async () => {
        await ws.close();
        await presence?.close();
        unobserve();
        await Promise.all(
          consumers.map((c) => c.stop().catch((err: unknown) => logger.warn({ err }, 'consumer stop failed'))),
        );
        await hub.closeAll();
        logger.info('command-service stopped');
      })()),
  };
}
