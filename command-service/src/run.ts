/**
 * The distributed command-service as a function, for `collab serve --mode distributed`: configuration from the
 * given environment, Kafka as the op log, telemetry, and a handle to stop it all. No signal handlers and no
 * process.exit: the caller owns the process.
 *
 * TEMPORARY DUPLICATE of main.ts's wiring (main.ts was being edited when this was written; dedupe by making
 * main.ts call runCommandService). It follows the committed main.ts: one op log, no command bus.
 */
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import { startTelemetry } from '@collab/observability';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import { ConfigError, loadConfig, redacted } from './config.js';
import { startCommandService } from './server.js';

export { ConfigError };

export interface RunningCommandService {
  readonly port: number;
  /** Stop the service, the log and telemetry, in that order. Idempotent. */
  close(): Promise<void>;
}

/** The effective configuration with secrets redacted; throws ConfigError listing every problem. */
export function describeCommandServiceConfig(env: NodeJS.ProcessEnv): unknown {
  return redacted(loadConfig(env));
}

export async function runCommandService(env: NodeJS.ProcessEnv): Promise<RunningCommandService> {
  const config = loadConfig(env);
  const logger = pino({ level: config.logLevel, base: { service: 'command-service' } });
  logger.info({ config: redacted(config) }, 'starting');
  const telemetry = startTelemetry({
    serviceName: 'command-service',
    ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
    prometheusPort: config.telemetry.prometheusPort,
    ...(config.telemetry.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.telemetry.otlpEndpoint }),
  });

  if (env.COLLAB_PROVISION === 'true') {
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

  let closing: Promise<void> | undefined;
  return {
    port: service.port,
    close: () =>
      (closing ??= (async () => {
        logger.info('shutting down');
        await service.close();
        await log.close();
        await telemetry.shutdown();
      })()),
  };
}
