/**
 * The distributed command-service as a process definition: configuration from the given environment (validated,
 * every problem at once), Kafka as the op log and the command bus, Redis presence when REDIS_URL is given, the
 * read API (Cassandra read models + S3 snapshots) and the web page beside the WebSocket, health endpoints,
 * telemetry. Signals, exit codes, the ready line and the shutdown order and deadline are the process kit's
 * (@collab/observability, runServiceProcess), run by main.ts and by `collab serve --mode distributed`.
 */
import { bestEffort } from '@collab/core';
import { randomUUID } from 'node:crypto';
import { createCassandraReadModelStore } from '@collab/adapter-cassandra';
import {
  createKafkaCommandBus,
  createKafkaOpLog,
  ensureCommandTopics,
  ensureOpsTopic,
  kafkaSecurityConfig,
} from '@collab/adapter-kafka';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import { createS3MediaStore, createS3SnapshotStore } from '@collab/adapter-s3';
import type { OpLog, SnapshotStore, SnapshotData, SnapshotMeta } from '@collab/core';
import type { ServiceProcessDefinition, ServiceScope, StartedService } from '@collab/observability';
import { packageVersion, startTelemetry } from '@collab/observability';
import type { PresenceSettings } from '@collab/presence-service';
import { loadPresenceSettings } from '@collab/presence-service';
import { createDocumentReader } from '@collab/read-side';
import { loadWebEditorAssets } from '@collab/web-editor';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import pino from 'pino';
import { TokenVerifier } from './auth/tokens.js';
import type { CommandServiceConfig } from './config.js';
import { ConfigError, loadConfig, redacted } from './config.js';
import type { DocumentSource } from './documents/document-source.js';
import { guardedByProjectionSource, projectionOffsets } from './documents/projection-offsets.js';
import { createLogSource } from './documents/log-source.js';
import { createReadSideSource } from './documents/read-side-source.js';
import { healthRoutes } from './http/health.js';
import { mediaApiRoutes } from './http/media-api.js';
import { READ_API_PAGE_SIZE, readApiRoutes } from './http/read-api.js';
import { commentsAtVersion } from './documents/comments-at.js';
import { webPageRoutes } from './http/web-page.js';
import { startCommandService } from './server.js';
import type { HttpRoute } from './transport/http-routes.js';

export { ConfigError };

/** The command-service's configuration and the presence settings it shares with the presence router. */
export type CommandServiceProcessConfig = CommandServiceConfig & { presence: PresenceSettings };

/** The effective configuration with secrets redacted; throws ConfigError listing every problem. */
export function describeCommandServiceConfig(env: NodeJS.ProcessEnv): unknown {
  return redacted(loadConfig(env));
}

function loadProcessConfig(env: NodeJS.ProcessEnv): CommandServiceProcessConfig {
  const config = loadConfig(env);
  try {
    return { ...config, presence: loadPresenceSettings(env) };
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

/**
 * The distributed command-service for the process kit: `runServiceProcess(commandServiceProcess(process.env))`.
 * The ready line carries the WebSocket port.
 */
export function commandServiceProcess(
  env: NodeJS.ProcessEnv,
  name = 'command-service',
): ServiceProcessDefinition<CommandServiceProcessConfig> {
  return {
    name,
    loadConfig: () => loadProcessConfig(env),
    isConfigError: (err) => err instanceof ConfigError,
    shutdown: (config) => config.shutdown,
    start: (config, scope) => startDistributedCommandService(config, env, scope),
  };
}

/** No snapshots configured: documents load from the read models alone (slower for long histories, never wrong). */
const NO_SNAPSHOTS: SnapshotStore = {
  put: async () => 'exists',
  latest: async (): Promise<SnapshotData | undefined> => undefined,
  get: async (): Promise<SnapshotData | undefined> => undefined,
  list: async (): Promise<SnapshotMeta[]> => [],
  delete: async () => {},
  close: async () => {},
};

async function provision(config: CommandServiceConfig): Promise<void> {
  const { kafka } = config;
  const admin = new Kafka({
    clientId: 'collab-provision',
    brokers: kafka.brokers,
    logLevel: 1,
    ...kafkaSecurityConfig(kafka.security),
  }).admin();
  await admin.connect();
  try {
    const replicationFactor = kafka.replicationFactor;
    await ensureOpsTopic(admin, { topic: kafka.topic, partitions: kafka.partitions, replicationFactor });
    await ensureCommandTopics(admin, {
      commandsTopic: kafka.commandsTopic,
      repliesTopic: kafka.repliesTopic,
      partitions: kafka.partitions,
      replicationFactor,
    });
  } finally {
    await admin.disconnect();
  }
}

interface ReadSide {
  routes: HttpRoute[];
  /** The owner's load path and catch-up beyond the window, when the read side is configured for it. */
  documents?: DocumentSource;
  close(): Promise<void>;
}

async function startReadSide(
  config: CommandServiceConfig,
  verifier: TokenVerifier,
  log: OpLog,
  logger: Logger,
): Promise<ReadSide> {
  if (config.readApi === undefined) {
    logger.warn('CASSANDRA_CONTACT_POINTS is not set: the read API (/v1/docs/...) is off; documents load from the log');
    return { routes: [], close: async () => {} };
  }
  const readModels = await createCassandraReadModelStore({
    ...config.readApi.cassandra,
    logger: logger.child({ component: 'cassandra' }),
  });
  const s3 = config.readApi.s3;
  const snapshots =
    s3 === undefined
      ? NO_SNAPSHOTS
      : createS3SnapshotStore({
          endpoint: s3.endpoint,
          region: s3.region,
          bucket: s3.bucket,
          prefix: s3.prefix,
          ...(s3.credentials === undefined ? {} : { credentials: s3.credentials }),
          logger: logger.child({ component: 's3' }),
        });
  const reader = createDocumentReader({
    readModels,
    snapshots,
    pageSize: READ_API_PAGE_SIZE,
    onSnapshotError: (err, docId) => logger.warn({ err, docId }, 'snapshot unreadable; loading from the read models'),
  });
  // Documents load (and catch-up reads ops older than the window) through the read side too: snapshot + read
  // models + the Kafka tail after the projection group's committed offset, the whole log when that fails.
  const load = config.readApi.load;
  // The document load pairs the group's committed offsets with this keyspace: refuse to start on a keyspace
  // another group projects (checked again at each load until the keyspace is claimed, see projection-offsets.ts).
  const holder = load === undefined ? undefined : await readModels.projectionSource(config.kafka.topic);
  if (load !== undefined) {
    if (holder !== undefined && holder !== load.projectionGroup) {
      await readModels.close();
      throw new ConfigError([
        `COLLAB_PROJECTION_GROUP: keyspace ${config.readApi.cassandra.keyspace} is projected by consumer group ` +
          `${holder}, not ${load.projectionGroup}; set it to ${holder} (or COLLAB_LOAD_FROM_READ_SIDE=false)`,
      ]);
    }
    if (holder === undefined) {
      logger.warn(
        { keyspace: config.readApi.cassandra.keyspace, group: load.projectionGroup },
        'no projection-service has claimed the read models yet: documents load from the whole log until one does',
      );
    }
  }
  const admin =
    load === undefined
      ? undefined
      : new Kafka({
          clientId: `command-service-offsets`,
          brokers: config.kafka.brokers,
          logLevel: 1,
          ...kafkaSecurityConfig(config.kafka.security),
        }).admin();
  await admin?.connect();
  const documents =
    load === undefined || admin === undefined
      ? undefined
      : createReadSideSource({
          log,
          readModels,
          ...(s3 === undefined ? {} : { snapshots }),
          committedOffset: guardedByProjectionSource(
            () => readModels.projectionSource(config.kafka.topic),
            load.projectionGroup,
            projectionOffsets(admin, load.projectionGroup, config.kafka.topic),
            { confirmed: holder === load.projectionGroup }, // asked just above
          ),
          window: config.window,
          logger: logger.child({ component: 'document-source' }),
          comments: config.comments !== undefined,
        });
  if (documents === undefined) logger.warn('COLLAB_LOAD_FROM_READ_SIDE=false: documents load from the whole log');
  // Threads at a version: through the read side like a load, or from the log when loads are.
  const timeTravel = documents ?? createLogSource({ log, window: config.window });
  return {
    routes: readApiRoutes(
      reader,
      verifier,
      logger,
      config.readApiLimits,
      Date.now,
      config.comments === undefined ? undefined : (docId, version) => commentsAtVersion(timeTravel, docId, version),
    ),
    ...(documents === undefined ? {} : { documents }),
    close: async () => {
      await bestEffort(admin?.disconnect());
      await snapshots.close();
      await readModels.close();
    },
  };
}

async function startDistributedCommandService(
  config: CommandServiceProcessConfig,
  env: NodeJS.ProcessEnv,
  scope: ServiceScope,
): Promise<StartedService> {
  const logger = pino({ level: config.logLevel, base: { service: 'command-service' } });
  logger.info({ config: redacted(config) }, 'starting');
  const instanceId = config.instanceId ?? randomUUID();
  const telemetry = startTelemetry({
    serviceName: 'collab-command-service',
    serviceVersion: packageVersion(import.meta.url),
    instanceId,
    ...config.telemetry,
  });
  scope.defer('telemetry', () => telemetry.shutdown());
  if (config.kafka.provision) await provision(config);

  const { kafka } = config;
  const kafkaCommon = {
    brokers: kafka.brokers,
    partitionCount: kafka.partitions,
    clientId: `command-service-${instanceId}`,
    timeouts: { sessionMs: kafka.sessionTimeoutMs, heartbeatMs: kafka.heartbeatMs },
    security: kafka.security,
    logger: logger.child({ component: 'kafka' }),
  };
  const log = await createKafkaOpLog({
    ...kafkaCommon,
    topic: kafka.topic,
    ...(kafka.schemaRegistry === undefined ? {} : { schemaRegistry: kafka.schemaRegistry }),
    ...(kafka.opsSchemaVersion === undefined ? {} : { opsSchemaVersion: kafka.opsSchemaVersion }),
    ...(kafka.transactionalIdPrefix === undefined ? {} : { transactionalIdPrefix: kafka.transactionalIdPrefix }),
  });
  scope.defer('kafka op log', () => log.close());
  const bus = await createKafkaCommandBus({
    ...kafkaCommon,
    commandsTopic: kafka.commandsTopic,
    repliesTopic: kafka.repliesTopic,
  });
  scope.defer('kafka command bus', () => bus.close());
  // Presence over Redis (REDIS_URL), shared by every instance: users on different instances see each other.
  const redis = config.redis;
  const presenceBus =
    redis === undefined
      ? undefined
      : createRedisPresenceBus({
          url: redis.url,
          ...(redis.tls === undefined ? {} : { tls: redis.tls }),
          keyPrefix: 'collab:',
          connectionName: `presence-${instanceId}`,
        });
  if (presenceBus === undefined) logger.warn('REDIS_URL is not set: presence (cursors, who is here) is off');
  else scope.defer('redis presence', () => presenceBus.close());

  const verifier = await TokenVerifier.create(config.auth);
  const readSide = await startReadSide(config, verifier, log, logger);
  scope.defer('read side', () => readSide.close());
  const page = config.servePage ? webPageRoutes(await loadWebEditorAssets()) : [];
  // Media uploads in S3, beside the snapshots (keys under {S3_PREFIX}media/, see @collab/adapter-s3 media-store).
  const mediaStore =
    config.media === undefined
      ? undefined
      : createS3MediaStore({
          endpoint: config.media.s3.endpoint,
          region: config.media.s3.region,
          bucket: config.media.s3.bucket,
          prefix: config.media.s3.prefix,
          ...(config.media.s3.credentials === undefined ? {} : { credentials: config.media.s3.credentials }),
        });
  if (mediaStore === undefined) logger.warn('S3_ENDPOINT is not set: media uploads (/v1/docs/:docId/media) are off');
  else scope.defer('media store', () => mediaStore.close());
  const media =
    mediaStore === undefined || config.media === undefined
      ? []
      : mediaApiRoutes(mediaStore, verifier, logger, { maxBytes: config.media.maxBytes });
  // The service is created below; health reads its ownership through this late-bound reference.
  let owned: () => readonly number[] = () => [];
  let draining = false;

  const service = await startCommandService({
    log,
    bus,
    ...(presenceBus === undefined ? {} : { presence: { bus: presenceBus, ...config.presence } }),
    forwardTimeoutMs: config.forwardTimeoutMs,
    logger,
    host: config.host,
    port: config.port,
    instanceId,
    auth: config.auth,
    consumerGroup: kafka.consumerGroup,
    window: config.window,
    catchupLimit: config.catchupLimit,
    maxCatchupBytes: config.maxCatchupBytes,
    ...(readSide.documents === undefined ? {} : { documents: readSide.documents }),
    hashEvery: config.hashEvery,
    limits: config.limits,
    // The Kafka log stores comment events beside the ops (the comment-event schema); off with COLLAB_COMMENTS=false.
    ...(config.comments === undefined ? {} : { comments: config.comments }),
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    access: config.access,
    connections: config.connections,
    edgeTransport: config.edgeTransport,
    httpRoutes: [
      ...healthRoutes({ log, ownedPartitions: () => owned(), relays: true, draining: () => draining }),
      ...readSide.routes,
      ...media,
      ...page,
    ],
  });
  // Closed first: the sockets, then the partitions handed over (the commands consumer leaves its group, so the
  // others take over at once instead of after the session timeout), then what the service used.
  scope.defer('websocket server', () => service.close());
  owned = () => service.hub.ownedPartitions;
  return {
    ready: { port: service.port },
    logger,
    drain: () => {
      draining = true;
    },
  };
}
