/**
 * The command-service process (distributed mode): configuration from the environment, Kafka as the op log,
 * structured logs, graceful shutdown on SIGINT/SIGTERM.
 */
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { startTelemetry } from '@collab/observability';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import { ConfigError, loadConfig, redacted } from './config.js';
import { startCommandService } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
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

  if (process.env.COLLAB_PROVISION === 'true') {
    const admin = new Kafka({ clientId: 'collab-provision', brokers: config.kafka.brokers }).admin();
    await admin.connect();
    try {
      await ensureOpsTopic(admin, {
        topic: config.kafka.topic,
        partitions: config.kafka.partitions,
        replicationFactor: 1,
      });
    } finally {
      await admin.disconnect();
    }
  }

  const log = await createKafkaOpLog({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    partitionCount: config.kafka.partitions,
    clientId: `command-service-${config.instanceId ?? process.pid}`,
    logger: logger.child({ component: 'kafka' }),
  });
  const service = await startCommandService({
    log,
    logger,
    host: config.host,
    port: config.port,
    instanceId: config.instanceId,
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
