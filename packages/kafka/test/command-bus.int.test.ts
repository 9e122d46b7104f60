/**
 * The Kafka CommandBus against the integration stack: commands land in the document's partition (the ops
 * topic's), carry origin, submission and trace headers; a command not checkpointed is delivered again to the next
 * member of the group (replays, never skips); replies reach only their origin, from the moment it subscribed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CommandBus, CommandRecord, CommandReply, ForwardedCommand } from '@collab/core';
import { commentCommandKey, isCollabError, isForwardedComment } from '@collab/core';
import { useStack } from '@collab/infra';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaCommandBus, createPartitionFor, ensureCommandTopics } from '../src/index.js';

const PARTITIONS = 3;
const TIMEOUTS = { heartbeatMs: 500, sessionMs: 10_000 };

function command(docId: string, seq: number, origin = 'origin-1'): ForwardedCommand {
  return {
    origin,
    forwardedAt: 1_764_230_400_000,
    submission: { docId, clientId: 'c', seq, baseVersion: seq - 1, op: ['x'], userId: 'u' },
  };
}

const seqOf = (r: CommandRecord): number => (isForwardedComment(r.value) ? -1 : r.value.submission.seq);

/** Waits (bounded) until `n` items are in `list`. */
async function collected<T>(list: T[], n: number, timeoutMs = 30_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (list.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${list.length} of ${n} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return list;
}

describe('Kafka CommandBus', function () {
  this.timeout(120_000);
  let brokers: string[];
  let commandsTopic: string;
  let repliesTopic: string;
  let admin: ReturnType<Kafka['admin']>;
  const buses: CommandBus[] = [];
  const open = async (): Promise<CommandBus> => {
    const bus = await createKafkaCommandBus({
      brokers,
      commandsTopic,
      repliesTopic,
      partitionCount: PARTITIONS,
      clientId: `bus-test-${randomUUID().slice(0, 6)}`,
      timeouts: TIMEOUTS,
    });
    buses.push(bus);
    return bus;
  };

  beforeEach(async () => {
    brokers = (await useStack()).kafka.brokers;
    const id = randomUUID().slice(0, 8);
    commandsTopic = `commands-test-${id}`;
    repliesTopic = `replies-test-${id}`;
    admin = new Kafka({ clientId: 'bus-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureCommandTopics(admin, { commandsTopic, repliesTopic, partitions: PARTITIONS, replicationFactor: 1 });
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await admin.deleteTopics({ topics: [commandsTopic, repliesTopic] }).catch(() => {});
    await admin.disconnect();
  });

  it('a forwarded command arrives in its document’s partition with origin, submission and trace headers', async () => {
    const bus = await open();
    const received: CommandRecord[] = [];
    const assigned: number[] = [];
    await bus.consumeCommands({
      groupId: `g-${randomUUID()}`,
      onAssigned: (p) => void assigned.push(...p),
      handler: async (records, context) => {
        received.push(...records);
        context.checkpoint(records[records.length - 1]!.offset);
      },
    });
    const docId = `doc-${randomUUID()}`;
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.forward(command(docId, 1), { traceparent });
    const [record] = await collected(received, 1);
    assert.equal(record!.partition, createPartitionFor('any', PARTITIONS)(docId));
    assert.equal(record!.partition, bus.partitionFor(docId));
    assert.deepEqual(record!.value, command(docId, 1));
    assert.equal(record!.headers.traceparent, traceparent);
    assert.deepEqual(
      assigned.sort((x, y) => x - y),
      [0, 1, 2],
    );
  });

  it('commands not checkpointed are delivered again to the next member of the group', async () => {
    const docId = `doc-${randomUUID()}`;
    const groupId = `g-${randomUUID()}`;
    const first = await open();
    for (let seq = 1; seq <= 3; seq++) await first.forward(command(docId, seq));
    const seen: number[] = [];
    const consumer = await first.consumeCommands({
      groupId,
      handler: async (records, context) => {
        for (const r of records) {
          seen.push(seqOf(r));
          // Only seq 1 is "decided"; 2 and 3 are left undecided, as when ownership moves mid-batch.
          if (seqOf(r) === 1) context.checkpoint(r.offset);
        }
      },
    });
    await collected(seen, 3);
    await consumer.stop();

    const second = await open();
    const again: number[] = [];
    await second.consumeCommands({
      groupId,
      handler: async (records, context) => {
        for (const r of records) again.push(seqOf(r));
        context.checkpoint(records[records.length - 1]!.offset);
      },
    });
    assert.deepEqual(await collected(again, 2), [2, 3]);
  });

  it('replies reach only their origin, and only those sent after it subscribed', async () => {
    const bus = await open();
    const before: CommandReply = {
      origin: 'me',
      docId: 'd',
      userId: 'u',
      clientId: 'c',
      seq: 1,
      outcome: { kind: 'duplicate', version: 1 },
    };
    await bus.reply(before);
    const mine: CommandReply[] = [];
    await bus.consumeReplies('me', (r) => mine.push(r));
    const reject: CommandReply = {
      ...before,
      seq: 2,
      outcome: { kind: 'reject', code: 'ERR_OP_INVALID', message: 'no', retriable: false, detail: 'ERR_OP_TOO_LONG' },
    };
    await bus.reply({ ...before, origin: 'someone-else', seq: 3 });
    await bus.reply(reject);
    // One replies partition: the reply to someone else, sent before ours, was read (and dropped) before it.
    assert.deepEqual(await collected(mine, 1), [reject]);
  });

  it('a comment command travels like a submission (same key and partition) and its reply reaches its origin', async () => {
    const bus = await open();
    const docId = `doc-${randomUUID()}`;
    const comment: ForwardedCommand = {
      origin: 'origin-c',
      forwardedAt: 1_764_230_400_000,
      comment: {
        docId,
        userId: 'u',
        ref: 'r1',
        command: {
          kind: 'create',
          threadId: 't',
          messageId: 'm',
          anchor: { start: 0, end: 1 },
          version: 3,
          text: 'hi',
        },
      },
    };
    await bus.forward(comment, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const got: CommandRecord[] = [];
    await bus.consumeCommands({
      groupId: `g-${randomUUID()}`,
      handler: async (records, context) => {
        got.push(...records);
        context.checkpoint(records[records.length - 1]!.offset);
      },
    });
    const [record] = await collected(got, 1);
    assert.deepEqual(record!.value, comment);
    assert.equal(record!.partition, bus.partitionFor(docId));

    const replies: CommandReply[] = [];
    await bus.consumeReplies('origin-c', (r) => replies.push(r));
    const reply: CommandReply = {
      origin: 'origin-c',
      docId,
      userId: 'u',
      commentKey: commentCommandKey(docId, 'u', { kind: 'resolve', threadId: 't' }),
      outcome: { kind: 'reject', code: 'ERR_COMMENT_NOT_FOUND', message: 'no such thread', retriable: false },
    };
    await bus.reply(reply);
    assert.deepEqual(await collected(replies, 1), [reply]);
  });

  it('refuses a commands topic whose partition count differs from the ops topic’s', async () => {
    await assert.rejects(
      createKafkaCommandBus({
        brokers,
        commandsTopic,
        repliesTopic,
        partitionCount: PARTITIONS + 1,
        clientId: 'bus-test-mismatch',
      }),
      (err: unknown) => isCollabError(err, 'ERR_INVALID_ARGUMENT'),
    );
  });
});
