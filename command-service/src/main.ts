/**
 * The command-service process (distributed mode): configuration from the environment, Kafka as the op log and
 * the command bus, structured logs, graceful shutdown on SIGINT/SIGTERM (which hands our partitions over: the
 * commands consumer leaves its group, so the others take over at once instead of after the session timeout).
 */
import { randomUUID } from 'node:crypto';
import { createKafkaCommandBus, createKafkaOpLog, ensureCommandTopics, ensureOpsTopic } from '@collab/adapter-kafka';
import { startTelemetry } from '@collab/observability';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import { loadPresenceSettings } from '@collab/presence-service';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import { ConfigError, loadConfig, redacted } from './config.js';
import { startCommandService } from './server.js';

async function main(): Promise<void> {
  let config;
  let presenceSettings;
  try {
    config = loadConfig(process.env);
    presenceSettings = loadPresenceSettings(process.env);
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && err.message.startsWith('invalid presence'))) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'command-service' } });
  logger.info({ config: redacted(config) }, 'starting');
  const telemetry = startTelemetry({
    serviceName: 'command-service',
    ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
    prometheusPort: config.telemetry.prometheusPort,
    ...(config.telemetry.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.telemetry.otlpEndpoint }),
  });

  const { kafka } = config;
  if (kafka.provision) {
    const admin = new Kafka({ clientId: 'collab-provision', brokers: kafka.brokers, logLevel: 1 }).admin();
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

  const instanceId = config.instanceId ?? randomUUID();
  const kafkaCommon = {
    brokers: kafka.brokers,
    partitionCount: kafka.partitions,
    clientId: `command-service-${instanceId}`,
    timeouts: { sessionMs: kafka.sessionTimeoutMs, heartbeatMs: kafka.heartbeatMs },
    logger: logger.child({ component: 'kafka' }),
  };
  const log = await createKafkaOpLog({ ...kafkaCommon, topic: kafka.topic });
  const bus = await createKafkaCommandBus({
    ...kafkaCommon,
    commandsTopic: kafka.commandsTopic,
    repliesTopic: kafka.repliesTopic,
  });
  // Presence over Redis (REDIS_URL), shared by every instance: users on different instances see each other.
  const redisUrl = process.env.REDIS_URL;
  const presenceBus =
    redisUrl === undefined || redisUrl === ''
      ? undefined
      : createRedisPresenceBus({ url: redisUrl, keyPrefix: 'collab:', connectionName: `presence-${instanceId}` });
  if (presenceBus === undefined) logger.warn('REDIS_URL is not set: presence (cursors, who is here) is off');
  const service = await startCommandService({
    log,
    bus,
    ...(presenceBus === undefined ? {} : { presence: { bus: presenceBus, ...presenceSettings } }),
    forwardTimeoutMs: config.forwardTimeoutMs,
    logger,
    host: config.host,
    port: config.port,
    instanceId,
    auth: config.auth,
    consumerGroup: config.kafka.consumerGroup,
    window: config.window,
    hashEvery: config.hashEvery,
    limits: config.limits,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
  });
  // Machine-readable readiness line for supervisors and tests.
  console.log(JSON.stringify({ ready: true, port: service.port }));

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.close();
    await presenceBus?.close();
    await bus.close();
    await log.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
