/**
 * What the data-team reader tests put in a partition: small ops of one document, and the aborted batch a writer
 * leaves when it is fenced with its transaction open (docs/data.md, "Ordering and delivery").
 */
import assert from 'node:assert/strict';
import { bestEffort, type OpCommitted } from '@collab/core';
import type { Kafka } from 'kafkajs';

/** Version `version` of `docId`, inserting `text` (at the start of version 1, then at the end). */
export const textRecord = (docId: string, version: number, text: string, timestamp = 0): OpCommitted => ({
  docId,
  version,
  op: version === 1 ? [text] : [version - 1, text],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp,
});

/**
 * A transactional writer sends `value` to the partition and, with its transaction still open, is fenced by a new
 * producer registering the same transactional id: the broker aborts the open transaction (an abort marker follows
 * the record), and the fenced writer's commit fails.
 */
export async function sendThenFence(
  kafka: Kafka,
  topic: string,
  partition: number,
  key: string,
  value: Buffer,
): Promise<void> {
  const transactionalId = `fenced-${topic}`;
  const stale = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await stale.connect();
  const open = await stale.transaction();
  await open.send({ topic, messages: [{ key, value, partition }] });
  const fresh = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await fresh.connect();
  await (await fresh.transaction()).abort(); // registers the id: the epoch bump that fences `stale`
  await assert.rejects(open.commit(), 'the fenced writer cannot commit');
  await bestEffort(stale.disconnect());
  await fresh.disconnect();
}
