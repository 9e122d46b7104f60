/**
 * Starts command-service instances against the real Kafka of the integration stack, each test run on a fresh
 * topic so runs never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import type { OpLog } from '@collab/core';
import { useStack } from '@collab/infra';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import { signDevToken } from '../../src/auth/tokens.js';
import type { CommandService, CommandServiceOptions } from '../../src/server.js';
import { startCommandService } from '../../src/server.js';

export const SECRET = 'test-secret-test-secret-test-secret!';

export interface TestTopic {
  topic: string;
  partitions: number;
  brokers: string[];
}

export async function freshTopic(partitions = 4): Promise<TestTopic> {
  const stack = await useStack();
  const topic = `test.ops.${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ clientId: 'test-admin', brokers: stack.kafka.brokers, logLevel: 0 }).admin();
  await admin.connect();
  try {
    await ensureOpsTopic(admin, { topic, partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return { topic, partitions, brokers: stack.kafka.brokers };
}

export async function openLog(t: TestTopic, clientId = `test-${randomUUID().slice(0, 6)}`): Promise<OpLog> {
  return createKafkaOpLog({ brokers: t.brokers, topic: t.topic, partitionCount: t.partitions, clientId });
}

export const TEST_LIMITS: CommandServiceOptions['limits'] = {
  maxFrameBytes: 64 * 1024,
  maxOpInsertLength: 16 * 1024,
  maxOpComponents: 512,
  maxDocumentLength: 1024 * 1024,
  maxDocuments: 8,
  maxUnacked: 64,
  opsPerSecond: 500,
  messagesPerSecond: 2000,
};

export interface RunningService {
  service: CommandService;
  log: OpLog;
  url: string;
  stop(): Promise<void>;
}

export async function startService(
  t: TestTopic,
  overrides: Partial<CommandServiceOptions> = {},
): Promise<RunningService> {
  const log = await openLog(t);
  const service = await startCommandService({
    log,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    host: '127.0.0.1',
    port: 0,
    auth: { hs256Secret: SECRET },
    consumerGroup: `${t.topic}-command`,
    ownAllPartitions: true,
    window: 1000,
    hashEvery: 10,
    limits: TEST_LIMITS,
    idleTimeoutSeconds: 30,
    ...overrides,
  });
  return {
    service,
    log,
    url: `ws://127.0.0.1:${service.port}/v1/ws`,
    stop: async () => {
      await service.close();
      await log.close();
    },
  };
}

export const token = (
  userId: string,
  docs: Record<string, Array<'read' | 'write' | 'comment'>> = { '*': ['read', 'write'] },
) => signDevToken({ secret: SECRET, userId, docs });
