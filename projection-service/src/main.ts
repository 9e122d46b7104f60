/**
 * The projection-service process (distributed mode): configuration from the environment, Kafka as the op log,
 * Cassandra as the read models, pino logs, OpenTelemetry, graceful shutdown on SIGINT/SIGTERM.
 *
 * The metrics port (COLLAB_METRICS_PORT, default 9465) serves /metrics, /healthz and /readyz (Kafka and
 * Cassandra answer, the consumer runs). Each batch continues the command-service's trace from its records'
 * headers, with the Cassandra write as a child span.
 *
 * Prints one machine-readable line `{"ready":true}` on stdout once it consumes (for supervisors and tests). Exit
 * codes, the shutdown order and its deadline: the process kit (@collab/observability, runServiceProcess).
 */
import { randomUUID } from 'node:crypto';
import { cassandraSecurityOptions, createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createKafkaOpLog, kafkaSecurityConfig } from '@collab/adapter-kafka';
import type { Offset } from '@collab/core';
import type { ServiceScope } from '@collab/observability';
import { checkDependencies, packageVersion, runServiceProcess, startTelemetry } from '@collab/observability';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import type { ProjectionServiceConfig } from './config.js';
import { ConfigError, loadConfig, redacted } from './config.js';
import { readinessChecks, tracedOpLog, tracedReadModels } from './ops-endpoints.js';
import { startProjectionService } from './service.js';

async function start(config: ProjectionServiceConfig, scope: ServiceScope) {
  const logger = pino({ level: config.logLevel, base: { service: 'projection-service' } });
  logger.info({ config: redacted(config) }, 'starting');
  const instanceId = config.instanceId ?? `projection-${randomUUID().slice(0, 8)}`;
  const telemetry = startTelemetry({
    serviceVersion: packageVersion(import.meta.url),
    serviceName: 'collab-projection-service',
    instanceId,
    ...config.telemetry,
    health: true,
  });
  scope.defer('telemetry', () => telemetry.shutdown());

  const { cassandra: cc, kafka: kc } = config;
  const client = new cassandra.Client({
    contactPoints: cc.contactPoints,
    localDataCenter: cc.localDataCenter,
    socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
    pooling: { heartBeatInterval: 10_000 },
    ...cassandraSecurityOptions(cc.security),
  });
  scope.defer('cassandra', () => client.shutdown());
  await client.connect();
  if (cc.migrate) {
    const result = await migrate(client, {
      keyspace: cc.keyspace,
      replication: { class: 'NetworkTopologyStrategy', dataCenters: { [cc.localDataCenter]: cc.replicationFactor } },
    });
    logger.info({ applied: result.applied.map((m) => m.name), keyspace: cc.keyspace }, 'migrated');
  }
  const store = await createCassandraReadModelStore({
    client,
    keyspace: cc.keyspace,
    logger: logger.child({ component: 'cassandra' }),
  });
  scope.defer('read models', () => store.close());
  // The keyspace names the group whose offsets describe it; another group's instance is refused here, before it
  // projects anything (the command-service's document load relies on the pairing, docs/operations.md).
  await store.claimProjectionSource(kc.topic, kc.groupId);

  const clientId = `projection-service-${instanceId}`;
  const log = await createKafkaOpLog({
    brokers: kc.brokers,
    topic: kc.topic,
    partitionCount: kc.partitions,
    clientId,
    security: kc.security,
    ...(kc.schemaRegistry === undefined ? {} : { schemaRegistry: kc.schemaRegistry }),
    logger: logger.child({ component: 'kafka' }),
  });
  scope.defer('kafka op log', () => log.close());
  // Only for the lag gauges of partitions this instance owns but has not projected anything of yet.
  const admin = new Kafka({
    clientId: `${clientId}-admin`,
    brokers: kc.brokers,
    logLevel: logLevel.NOTHING,
    ...kafkaSecurityConfig(kc.security),
  }).admin();
  scope.defer('kafka admin', () => admin.disconnect());
  await admin.connect();
  const committedOffsets = async (): Promise<Map<number, Offset>> => {
    const [topic] = await admin.fetchOffsets({ groupId: kc.groupId, topics: [kc.topic] });
    const result = new Map<number, Offset>();
    for (const { partition, offset } of topic?.partitions ?? []) {
      if (offset !== '-1') result.set(partition, BigInt(offset));
    }
    return result;
  };

  let consuming = false;
  telemetry.setReadiness(() => checkDependencies(readinessChecks({ log, store, consuming: () => consuming })));
  const service = await startProjectionService({
    log: tracedOpLog(log),
    store: tracedReadModels(store),
    groupId: kc.groupId,
    logger,
    lagRefreshMs: config.lagRefreshMs,
    committedOffsets,
    maxOpsPerWrite: config.maxOpsPerWrite,
    writeConcurrency: config.writeConcurrency,
    batchWaitMs: config.batchWaitMs,
  });
  // Closed first: stopping the consumer commits the last checkpoints while the store and the log are open.
  scope.defer('consumer', () => service.stop());
  consuming = true;
  return {
    logger,
    drain: () => {
      consuming = false; // the instance is leaving its group
      telemetry.drain();
    },
  };
}

void runServiceProcess({
  name: 'projection-service',
  loadConfig: () => loadConfig(process.env),
  isConfigError: (err) => err instanceof ConfigError,
  shutdown: (config) => config.shutdown,
  start,
});
