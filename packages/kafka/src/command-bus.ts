/**
 * createKafkaCommandBus: the CommandBus port over two Kafka topics (see README.md, "Command bus").
 *
 * - `commands`: key = docId, the ops topic's partition count and partitioner, so commands partition p holds
 *   exactly the documents of ops partition p. One consumer group of all command-service instances: its
 *   assignment is the ownership. Checkpointing is the OpLog consumer's (offsets move only to checkpoints).
 * - `replies`: every instance reads all of it from its end at start-up and keeps the replies addressed to it.
 *   Replies are tiny, rare (rejections and duplicate acks only) and useless once their forward timed out, so a
 *   throwaway group per instance, no committed offsets and a short retention are enough. This avoids one topic
 *   (or partition) per instance, which would have to be created and cleaned up as instances come and go.
 *
 * Values are JSON, not Avro: commands are an internal, short-lived hand-off between instances of the same
 * version (a `v` field guards against a mixed rollout), and the op inside is still unvalidated client input.
 * Producers are not idempotent: a retried send may duplicate a command or a reply, which the sequencer's dedupe
 * by (userId, clientId, seq) and the origin's settle-once bookkeeping absorb.
 */
import { randomUUID } from 'node:crypto';
import {
  CollabError,
  type CommandBus,
  type CommandRecord,
  type CommandReply,
  type ConsumeCommandsOptions,
  type Consumer,
  type ForwardedCommand,
  forwardedDocId,
  isForwardedComment,
  silentLogger,
  bestEffort,
} from '@collab/core';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { toCollabError, withDeadline } from './errors.js';
import { startGroupConsumer } from './group-consumer.js';
import { kafkajsLogCreator } from './logger.js';
import { resolveOptions, type KafkaOpLogOptions } from './options.js';
import { createPartitionFor } from './partitioner.js';
import { kafkaSecurityConfig } from './security.js';

export interface KafkaCommandBusOptions extends Omit<KafkaOpLogOptions, 'topic' | 'transactionalIdPrefix'> {
  commandsTopic: string;
  repliesTopic: string;
}

const FORMAT = 1;
const ORIGIN_HEADER = 'collab-origin';

/** A consumed commands record, decoded or not (an undecodable one is still an offset to move past). */
interface MaybeCommand {
  partition: number;
  offset: bigint;
  command: CommandRecord | undefined;
}

type CommandValue = ForwardedCommand & { v: number };

function headersOf(message: KafkaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) out[key] = value.toString();
  }
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * A command that does not decode is skipped (and logged): it came from a bug or another version, not a client.
 * Two kinds share the topic: a submission (`submission`) and a comment command (`comment`, whose `command` the
 * owner's decideComment checks again).
 */
function decodeCommand(message: KafkaMessage, partition: number): CommandRecord | undefined {
  try {
    const value = JSON.parse(message.value?.toString('utf8') ?? '') as unknown;
    if (!isObject(value) || value.v !== FORMAT || typeof value.origin !== 'string') return undefined;
    const common = {
      origin: value.origin,
      forwardedAt: typeof value.forwardedAt === 'number' ? value.forwardedAt : 0,
    };
    const record = (forwarded: ForwardedCommand): CommandRecord => ({
      partition,
      offset: BigInt(message.offset),
      value: forwarded,
      headers: headersOf(message),
    });
    if (isObject(value.comment)) {
      const c = value.comment;
      if (
        typeof c.docId !== 'string' ||
        typeof c.userId !== 'string' ||
        typeof c.ref !== 'string' ||
        !isObject(c.command) ||
        typeof c.command.kind !== 'string' ||
        typeof c.command.threadId !== 'string'
      ) {
        return undefined;
      }
      return record({
        ...common,
        comment: { docId: c.docId, userId: c.userId, ref: c.ref, command: c.command as never },
      });
    }
    if (!isObject(value.submission)) return undefined;
    const s = value.submission;
    if (
      typeof s.docId !== 'string' ||
      typeof s.clientId !== 'string' ||
      typeof s.seq !== 'number' ||
      typeof s.baseVersion !== 'number' ||
      typeof s.userId !== 'string'
    ) {
      return undefined;
    }
    return record({
      ...common,
      submission: {
        docId: s.docId,
        clientId: s.clientId,
        seq: s.seq,
        baseVersion: s.baseVersion,
        op: s.op,
        userId: s.userId,
      },
    });
  } catch {
    return undefined;
  }
}

function decodeReply(message: KafkaMessage): CommandReply | undefined {
  try {
    const value = JSON.parse(message.value?.toString('utf8') ?? '') as unknown;
    if (!isObject(value) || value.v !== FORMAT || !isObject(value.outcome)) return undefined;
    const { v: _, ...reply } = value;
    return reply as unknown as CommandReply;
  } catch {
    return undefined;
  }
}

async function checkPartitions(admin: Admin, topic: string, expected: number | undefined): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const actual = metadata.topics[0]?.partitions.length ?? 0;
  if (expected !== undefined && actual !== expected) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      `topic ${topic} has ${actual} partitions, expected ${expected} (the ops topic's count): commands would reach the wrong owner`,
    );
  }
  return actual;
}

export async function createKafkaCommandBus(input: KafkaCommandBusOptions): Promise<CommandBus> {
  const options = resolveOptions({ ...input, topic: input.commandsTopic });
  const { partitionCount, endpoint, timeouts, logger } = options;
  const { commandsTopic, repliesTopic } = input;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: timeouts.connectionMs,
    requestTimeout: timeouts.requestMs,
    retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logger === silentLogger ? logLevel.NOTHING : logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
    ...kafkaSecurityConfig(options.security),
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  const what = `open command bus ${commandsTopic} / ${repliesTopic}`;
  try {
    await withDeadline(
      (async () => {
        await admin.connect();
        await checkPartitions(admin, commandsTopic, partitionCount);
        const replies = await checkPartitions(admin, repliesTopic, undefined);
        if (replies === 0) throw new CollabError('ERR_NOT_FOUND', `topic ${repliesTopic} does not exist`);
        await producer.connect();
      })(),
      timeouts.operationMs,
      what,
      endpoint,
    );
  } catch (err) {
    await bestEffort(producer.disconnect());
    await bestEffort(admin.disconnect());
    throw toCollabError(err, what, endpoint);
  }

  const partitionFor = createPartitionFor(commandsTopic, partitionCount);
  const open = new Set<Consumer>();
  let closing: Promise<void> | undefined;
  const assertOpen = () => {
    if (closing !== undefined) throw new CollabError('ERR_CLOSED', `command bus ${commandsTopic} is closed`);
  };
  const track = (consumer: Consumer): Consumer => {
    const handle: Consumer = {
      stop: async () => {
        open.delete(handle);
        await consumer.stop();
      },
    };
    open.add(handle);
    return handle;
  };

  return {
    partitionCount,
    partitionFor,

    async forward(command, headers = {}) {
      assertOpen();
      const docId = forwardedDocId(command);
      const partition = partitionFor(docId);
      const value: CommandValue = { v: FORMAT, ...command };
      const what = isForwardedComment(command)
        ? `comment ${command.comment.command.kind} (ref ${command.comment.ref})`
        : `(${command.submission.clientId}, ${command.submission.seq})`;
      const doing = `forward ${docId} ${what} to ${commandsTopic} partition ${partition}`;
      try {
        await withDeadline(
          producer.send({
            topic: commandsTopic,
            acks: -1,
            messages: [
              {
                key: docId,
                partition,
                value: JSON.stringify(value),
                headers: { ...headers, [ORIGIN_HEADER]: command.origin },
              },
            ],
          }),
          timeouts.appendMs,
          doing,
          endpoint,
        );
      } catch (err) {
        throw toCollabError(err, doing, endpoint);
      }
    },

    async consumeCommands(consume: ConsumeCommandsOptions) {
      assertOpen();
      const consumer = await startGroupConsumer<MaybeCommand>(
        kafka,
        options,
        {
          groupId: consume.groupId,
          // A brand-new group must not skip commands forwarded before its first member joined.
          fromBeginning: true,
          ...(consume.onAssigned === undefined ? {} : { onAssigned: consume.onAssigned }),
          ...(consume.onRevoked === undefined ? {} : { onRevoked: consume.onRevoked }),
          handler: async (records, context) => {
            const valid: CommandRecord[] = [];
            for (const r of records) {
              if (r.command !== undefined) valid.push(r.command);
              else
                logger.error({ partition: r.partition, offset: r.offset.toString() }, 'skipping undecodable command');
            }
            if (valid.length > 0) await consume.handler(valid, context);
            // A batch of nothing but undecodable commands is done with.
            else if (records.length > 0) context.checkpoint(records[records.length - 1]!.offset);
          },
        },
        {
          topic: commandsTopic,
          decode: (message, partition) => ({
            partition,
            offset: BigInt(message.offset),
            command: decodeCommand(message, partition),
          }),
          // Partitions are independent documents: one slow append must not hold up every other partition.
          concurrency: partitionCount,
        },
      );
      return track(consumer);
    },

    async reply(reply) {
      assertOpen();
      const doing = `reply to ${reply.origin} on ${repliesTopic}`;
      try {
        await withDeadline(
          producer.send({
            topic: repliesTopic,
            acks: -1,
            messages: [{ key: reply.origin, value: JSON.stringify({ v: FORMAT, ...reply }) }],
          }),
          timeouts.appendMs,
          doing,
          endpoint,
        );
      } catch (err) {
        throw toCollabError(err, doing, endpoint);
      }
    },

    async consumeReplies(origin, handler) {
      assertOpen();
      const groupId = `${options.clientId}-replies-${randomUUID()}`;
      const consumer = kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: timeouts.sessionMs,
        heartbeatInterval: timeouts.heartbeatMs,
        maxWaitTimeInMs: 200,
      });
      const doing = `consume ${repliesTopic} for ${origin}`;
      try {
        await withDeadline(
          (async () => {
            // Start exactly at the end as of now: "latest" would be resolved at the first fetch, later, and
            // could skip a reply to a forward made in between.
            const ends = await admin.fetchTopicOffsets(repliesTopic);
            await consumer.connect();
            await consumer.subscribe({ topics: [repliesTopic], fromBeginning: false });
            await consumer.run({
              autoCommit: false,
              eachMessage: async ({ message }) => {
                const reply = decodeReply(message);
                if (reply === undefined) {
                  logger.warn({ offset: message.offset }, 'skipping undecodable reply');
                  return;
                }
                if (reply.origin === origin) handler(reply);
              },
            });
            for (const { partition, offset } of ends) consumer.seek({ topic: repliesTopic, partition, offset });
          })(),
          timeouts.operationMs,
          doing,
          endpoint,
        );
      } catch (err) {
        await bestEffort(consumer.disconnect());
        throw toCollabError(err, doing, endpoint);
      }
      let stopped: Promise<void> | undefined;
      return track({
        stop: () =>
          (stopped ??= (async () => {
            await withDeadline(consumer.disconnect(), timeouts.operationMs, `stop ${doing}`, endpoint).catch(
              (err: unknown) => logger.warn({ err }, 'replies consumer did not disconnect cleanly'),
            );
            // Nothing was ever committed in this group; spare the broker an empty group until its cleanup.
            await bestEffort(admin.deleteGroups([groupId]));
          })()),
      });
    },

    close() {
      closing ??= (async () => {
        await Promise.allSettled([...open].map((c) => c.stop()));
        await withDeadline(producer.disconnect(), timeouts.operationMs, 'close command bus producer', endpoint).catch(
          () => {},
        );
        await bestEffort(admin.disconnect());
      })();
      return closing;
    },
  };
}
