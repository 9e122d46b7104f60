/**
 * Topic creation right after a broker starts: kafkajs's createTopics (waitForLeaders) can fail with
 * UNKNOWN_TOPIC_OR_PARTITION, a retriable error it does not retry itself; ensureOpsTopic and ensureCommandTopics
 * try again, and give up on errors that are not retriable.
 */
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { KafkaJSProtocolError } from 'kafkajs';

import { ensureCommandTopics, ensureOpsTopic } from '../src/topic.js';

/** kafkajs builds these from a broker's error code (its typings take only a message or an Error). */
const protocolError = (fields: { type: string; code: number; retriable: boolean; message: string }) =>
  new KafkaJSProtocolError(fields as unknown as Error);

/** An admin whose createTopics fails with `errors` first, then creates; metadata answers the asked counts. */
function fakeAdmin(errors: Error[], partitions: number) {
  let calls = 0;
  const admin = {
    createTopics: async () => {
      calls++;
      const error = errors.shift();
      if (error !== undefined) throw error;
      return calls === 1;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({
        name,
        partitions: Array.from({ length: name.includes('replies') ? 1 : partitions }),
      })),
    }),
  };
  return { admin: admin as unknown as Admin, calls: () => calls };
}

const unknownTopic = () =>
  protocolError({
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    code: 3,
    retriable: true,
    message: 'This server does not host this topic-partition',
  });

describe('topic creation on a broker that has just started', function () {
  this.timeout(10_000);

  it('ensureOpsTopic tries again after UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { admin, calls } = fakeAdmin([unknownTopic(), unknownTopic()], 6);
    await ensureOpsTopic(admin, { topic: 'collab.ops', partitions: 6, replicationFactor: 1 });
    assert.equal(calls(), 3);
  });

  it('ensureCommandTopics tries again too', async () => {
    const { admin, calls } = fakeAdmin([unknownTopic()], 6);
    await ensureCommandTopics(admin, {
      commandsTopic: 'collab.commands',
      repliesTopic: 'collab.replies',
      partitions: 6,
      replicationFactor: 1,
    });
    assert.equal(calls(), 2);
  });

  it('gives up at once on an error that is not retriable', async () => {
    const denied = protocolError({
      type: 'TOPIC_AUTHORIZATION_FAILED',
      code: 29,
      retriable: false,
      message: 'Not authorized to access topics',
    });
    const { admin, calls } = fakeAdmin([denied], 6);
    await assert.rejects(
      ensureOpsTopic(admin, { topic: 'collab.ops', partitions: 6, replicationFactor: 1 }),
      /Not authorized/,
    );
    assert.equal(calls(), 1);
  });
});
