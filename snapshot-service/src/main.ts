/**
 * Composition root of the snapshot-service: config from the environment (validated, every problem at once),
 * telemetry, adapters (Kafka op log, Cassandra read models, S3 snapshots), the worker, and an idempotent
 * graceful shutdown on SIGTERM/SIGINT (snapshot dirty documents for a bounded time, commit checkpoints, close).
 *
 * The metrics port (COLLAB_METRICS_PORT, default 9466) serves /metrics, /healthz and /readyz (Kafka, Cassandra
 * and S3 answer, the worker consumes). Batches continue the command-service's traces; S3 writes are spans.
 */
import { randomUUID } from 'node:crypto';
import { createCassandraReadModelStore } from '@collab/adapter-cassandra';
import { createKafkaOpLog } from '@collab/adapter-kafka';
import { createS3SnapshotStore } from '@collab/adapter-s3';
import { checkDependencies, startTelemetry } from '@collab/observability';
import { createDocumentReader } from '@collab/read-side';
import pino from 'pino';
import { ConfigError, loadConfig, redacted } from './config.js';
import { registerMetrics } from './metrics.js';
import { readinessChecks, tracedOpLog, tracedSnapshots } from './ops-endpoints.js';
import { createSnapshotWorker, type SnapshotWorker } from './snapshot-worker.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const instanceId = config.instanceId ?? `snapshot-${randomUUID().slice(0, 8)}`;
  const logger = pino({ level: config.logLevel, base: { service: 'snapshot-service', instanceId } });
  logger.info({ config: redacted(config) }, 'starting');
  const telemetry = startTelemetry({
    serviceName: 'collab-snapshot-service',
    instanceId,
    ...config.telemetry,
    health: true,
  });

  // The gauges read the worker, the worker reports to the counters: the holder breaks the cycle.
  const holder: { worker?: SnapshotWorker } = {};
  const metrics = registerMetrics(() => holder.worker);
  const log = await createKafkaOpLog({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    partitionCount: config.kafka.partitions,
    clientId: instanceId,
    security: config.kafka.security,
    logger: logger.child({ component: 'kafka' }),
  });
  const readModels = await createCassandraReadModelStore({
    ...config.cassandra,
    logger: logger.child({ component: 'cassandra' }),
  });
  const snapshots = createS3SnapshotStore({
    ...(config.s3.endpoint === undefined ? {} : { endpoint: config.s3.endpoint }),
    region: config.s3.region,
    ...(config.s3.credentials === undefined ? {} : { credentials: config.s3.credentials }),
    bucket: config.s3.bucket,
    prefix: config.s3.prefix,
    logger: logger.child({ component: 's3' }),
  });
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
    reader,
    snapshots: tracedSnapshots(snapshots),
    policy: config.policy,
    retry: config.retry,
    retention: config.retention,
    logger,
    onSnapshot: (event) => {
      metrics.onSnapshot(event);
      logger.debug(event, 'snapshot written');
    },
    onWriteAttemptFailed: () => metrics.onWriteAttemptFailed(),
  });
  holder.worker = worker;
  await worker.start();
  consuming = true;
  logger.info('consuming');
  // Machine-readable readiness line for supervisors and tests, as every service prints.
  console.log(JSON.stringify({ ready: true }));

  let shutdown: Promise<void> | undefined;
  const stop = (signal: string) =>
    (shutdown ??= (async () => {
      logger.info({ signal }, 'shutting down');
      consuming = false;
      await worker.stop().catch((err: unknown) => logger.error({ err }, 'worker did not stop cleanly'));
      await Promise.allSettled([log.close(), readModels.close(), snapshots.close()]);
      await telemetry.shutdown().catch(() => {});
      logger.info('stopped');
    })().finally(() => process.exit(0)));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`snapshot-service failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
