/**
 * Composition root of the snapshot-service: config from the environment (validated, every problem at once),
 * telemetry, adapters (Kafka op log, Cassandra read models, S3 snapshots), the worker, and an idempotent
 * graceful shutdown on SIGTERM/SIGINT (snapshot dirty documents for a bounded time, commit checkpoints, close)
 * within the process kit's deadline (@collab/observability, runServiceProcess).
 *
 * The metrics port (COLLAB_METRICS_PORT, default 9466) serves /metrics, /healthz and /readyz (Kafka, Cassandra
 * and S3 answer, the worker consumes). Batches continue the command-service's traces; S3 writes are spans.
 */
import { randomUUID } from 'node:crypto';
import { createCassandraReadModelStore } from '@collab/adapter-cassandra';
import { createKafkaOpLog } from '@collab/adapter-kafka';
import { createS3SnapshotStore } from '@collab/adapter-s3';
import type { ServiceScope } from '@collab/observability';
import { checkDependencies, packageVersion, runServiceProcess, startTelemetry } from '@collab/observability';
import { createDocumentReader } from '@collab/read-side';
import pino from 'pino';
import type { SnapshotServiceConfig } from './config.js';
import { ConfigError, loadConfig, redacted } from './config.js';
import { registerMetrics } from './metrics.js';
import { readinessChecks, tracedOpLog, tracedSnapshots } from './ops-endpoints.js';
import { createSnapshotWorker, type SnapshotWorker } from './snapshot-worker.js';

async function start(config: SnapshotServiceConfig, scope: ServiceScope) {
  const instanceId = config.instanceId ?? `snapshot-${randomUUID().slice(0, 8)}`;
  const logger = pino({ level: config.logLevel, base: { service: 'snapshot-service', instanceId } });
  logger.info({ config: redacted(config) }, 'starting');
  const telemetry = startTelemetry({
    serviceVersion: packageVersion(import.meta.url),
    serviceName: 'collab-snapshot-service',
    instanceId,
    ...config.telemetry,
    health: true,
  });
  scope.defer('telemetry', () => telemetry.shutdown());

  // The gauges read the worker, the worker reports to the counters: the holder breaks the cycle.
  const holder: { worker?: SnapshotWorker } = {};
  const metrics = registerMetrics(() => holder.worker);
  const log = await createKafkaOpLog({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    partitionCount: config.kafka.partitions,
    clientId: instanceId,
    security: config.kafka.security,
    ...(config.kafka.schemaRegistry === undefined ? {} : { schemaRegistry: config.kafka.schemaRegistry }),
    logger: logger.child({ component: 'kafka' }),
  });
  scope.defer('kafka op log', () => log.close());
  const readModels = await createCassandraReadModelStore({
    ...config.cassandra,
    logger: logger.child({ component: 'cassandra' }),
  });
  scope.defer('read models', () => readModels.close());
  const snapshots = createS3SnapshotStore({
    ...(config.s3.endpoint === undefined ? {} : { endpoint: config.s3.endpoint }),
    region: config.s3.region,
    ...(config.s3.credentials === undefined ? {} : { credentials: config.s3.credentials }),
    bucket: config.s3.bucket,
    prefix: config.s3.prefix,
    logger: logger.child({ component: 's3' }),
  });
  scope.defer('s3', () => snapshots.close());
  const reader = createDocumentReader({
    readModels,
    snapshots,
    onSnapshotError: (err, docId) => logger.warn({ err, docId }, 'snapshot unreadable; replaying ops'),
  });
  let consuming = false;
  telemetry.setReadiness(() =>
    checkDependencies(readinessChecks({ log, readModels, snapshots, consuming: () => consuming })),
  );
  const worker = createSnapshotWorker({
    log: tracedOpLog(log),
    groupId: config.kafka.groupId,
    batchWaitMs: config.kafka.batchWaitMs,
    reader,
    snapshots: tracedSnapshots(snapshots),
    policy: config.policy,
    retry: config.retry,
    retention: config.retention,
    // Snapshotting dirty documents on shutdown gets half the shutdown deadline at most: the checkpoints and the
    // closes after it need the rest.
    drainMs: Math.min(10_000, Math.floor(config.shutdown.timeoutMs / 2)),
    logger,
    onSnapshot: (event) => {
      metrics.onSnapshot(event);
      logger.debug(event, 'snapshot written');
    },
    onWriteAttemptFailed: () => metrics.onWriteAttemptFailed(),
  });
  holder.worker = worker;
  scope.defer('worker', () => worker.stop());
  await worker.start();
  consuming = true;
  logger.info('consuming');
  return {
    logger,
    drain: () => {
      consuming = false;
      telemetry.drain();
    },
  };
}

void runServiceProcess({
  name: 'snapshot-service',
  loadConfig: () => loadConfig(process.env),
  isConfigError: (err) => err instanceof ConfigError,
  shutdown: (config) => config.shutdown,
  start,
});
