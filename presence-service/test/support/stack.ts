/**
 * command-service instances for the presence tests, on fresh Kafka topics of the integration stack (the same
 * recipe as command-service/test/support, through the package's public API).
 */
import { randomUUID } from 'node:crypto';
import { createKafkaOpLog, ensureCommandTopics, ensureOpsTopic } from '@collab/adapter-kafka';
import type { CommandService, CommandServiceOptions } from '@collab/command-service';
import { startCommandService } from '@collab/command-service';
import type { OpLog } from '@collab/core';
import { useStack } from '@collab/infra';
import { Kafka } from 'kafkajs';
import pino from 'pino';

export const SECRET = 'presence-test-secret-presence-test!';

export interface Topics {
  brokers: string[];
  topic: string;
  commandsTopic: string;
  repliesTopic: string;
  partitions: number;
  group: string;
}

export async function freshTopics(partitions = 2): Promise<Topics> {
  const stack = await useStack();
  const id = randomUUID().slice(0, 8);
  const t: Topics = {
    brokers: stack.kafka.brokers,
    topic: `test.ops.${id}`,
    commandsTopic: `test.commands.${id}`,
    repliesTopic: `test.replies.${id}`,
    partitions,
    group: `test.ops.${id}-command`,
  };
  const admin = new Kafka({ clientId: 'test-admin', brokers: t.brokers, logLevel: 0 }).admin();
  await admin.connect();
  try {
    await ensureOpsTopic(admin, { topic: t.topic, partitions, replicationFactor: 1 });
    await ensureCommandTopics(admin, { ...t, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return t;
}

export interface RunningService {
  service: CommandService;
  url: string;
  stop(): Promise<void>;
}

export async function startService(t: Topics, overrides: Partial<CommandServiceOptions> = {}): Promise<RunningService> {
  const log: OpLog = await createKafkaOpLog({
    brokers: t.brokers,
    topic: t.topic,
    partitionCount: t.partitions,
    clientId: `presence-test-${randomUUID().slice(0, 6)}`,
  });
  const service = await startCommandService({
    log,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    host: '127.0.0.1',
    port: 0,
    auth: { hs256Secret: SECRET },
    consumerGroup: t.group,
    ownAllPartitions: true,
    window: 1000,
    hashEvery: 10,
    limits: {
      maxFrameBytes: 64 * 1024,
      maxOpInsertLength: 16 * 1024,
      maxOpComponents: 512,
      maxDocumentLength: 1024 * 1024,
      maxDocuments: 8,
      maxUnacked: 64,
      opsPerSecond: 500,
      messagesPerSecond: 2000,
    },
    idleTimeoutSeconds: 30,
    ...overrides,
  });
  return {
    service,
    url: `ws://127.0.0.1:${service.port}/v1/ws`,
    stop: async () => {
      await service.close();
      await log.close();
    },
  };
}

/** Bounded polling, for what has no event to await (Kafka rebalances, Redis coming back). */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
