/**
 * A fresh ops topic per test (unique name, so runs never collide; `extra.topic` when the test must know it before,
 * e.g. to register a schema under its subject first) and an OpLog over it; cleanup closes the log and deletes the
 * topic.
 */
import { randomUUID } from 'node:crypto';
import type { OpLog } from '@collab/core';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaOpLog, ensureOpsTopic, type KafkaOpLogOptions } from '../../src/index.js';

export interface KafkaFixture {
  log: OpLog;
  topic: string;
  kafka: Kafka;
  cleanup(): Promise<void>;
}

/** Short consumer heartbeats so that tests see rebalances quickly; everything else is the production default. */
const TEST_TIMEOUTS: KafkaOpLogOptions['timeouts'] = { heartbeatMs: 500, sessionMs: 10_000 };

export async function kafkaFixture(
  brokers: string[],
  partitions = 2,
  extra: Partial<KafkaOpLogOptions> = {},
): Promise<KafkaFixture> {
  const topic = extra.topic ?? `ops-test-${randomUUID().slice(0, 12)}`;
  const kafka = new Kafka({ clientId: 'ops-test-admin', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureOpsTopic(admin, { topic, partitions, replicationFactor: 1 });
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
  const log = await createKafkaOpLog({
    brokers,
    topic,
    partitionCount: partitions,
    clientId: `ops-test-${topic}`,
    timeouts: TEST_TIMEOUTS,
    ...extra,
  });
  return {
    log,
    topic,
    kafka,
    async cleanup() {
      await log.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    },
  };
}
