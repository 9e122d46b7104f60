/**
 * createKafkaOpLog: the OpLog port over one Kafka topic (see README.md for the design).
 *
 * The returned log owns one admin client (end offsets, metadata, throwaway read groups); writers, readers and
 * consumers each get their own kafkajs client, so that closing one never disturbs another.
 */
import {
  CollabError,
  type ConsumeOptions,
  type Consumer,
  type OpLog,
  type PartitionWriter,
  silentLogger,
  bestEffort,
} from '@collab/core';
import { Kafka, logLevel } from 'kafkajs';
import { createRegistryLogValueCodec, localLogValueCodecWriting, schemaVersions } from '@collab/schemas';
import { toCollabError, withDeadline } from './errors.js';
import { startGroupConsumer } from './group-consumer.js';
import { kafkajsLogCreator } from './logger.js';
import { prepareMessages, toLogRecord } from './messages.js';
import { fetchEndOffsets, fetchOffsetsForTime } from './offsets.js';
import { resolveOptions, type KafkaOpLogOptions } from './options.js';
import { createPartitionFor } from './partitioner.js';
import { readPartition } from './reader.js';
import { openPartitionWriter } from './writer.js';
import { kafkaSecurityConfig } from './security.js';

const DEFAULT_READ_BATCH = 500;

/**
 * Connects, checks that the topic exists with `partitionCount` partitions, and returns the log. Fails with
 * ERR_UNAVAILABLE (naming the brokers) when Kafka cannot be reached, ERR_NOT_FOUND when the topic is missing and
 * ERR_INVALID_ARGUMENT when its partition count differs.
 */
export async function createKafkaOpLog(input: KafkaOpLogOptions): Promise<OpLog> {
  const options = resolveOptions(input);
  if (input.schemaRegistry !== undefined) {
    if (input.opsSchemaVersion !== undefined) {
      throw new CollabError('ERR_INVALID_ARGUMENT', 'opsSchemaVersion is for a log without a schema registry');
    }
    // Before Kafka: a registry that cannot give the id fails the start, naming its URL.
    options.codec = await createRegistryLogValueCodec({ ...input.schemaRegistry, topic: options.topic });
  } else if (input.opsSchemaVersion !== undefined) {
    const versions = schemaVersions('op-committed');
    if (!versions.includes(input.opsSchemaVersion)) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `COLLAB_OPS_SCHEMA_VERSION (opsSchemaVersion): one of the op-committed schema versions ${versions.join(', ')}, not ${input.opsSchemaVersion}`,
      );
    }
    options.codec = localLogValueCodecWriting(input.opsSchemaVersion);
  }
  const { topic, partitionCount, endpoint, timeouts } = options;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: timeouts.connectionMs,
    requestTimeout: timeouts.requestMs,
    retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: options.logger === silentLogger ? logLevel.NOTHING : logLevel.WARN,
    logCreator: kafkajsLogCreator(options.logger),
    ...kafkaSecurityConfig(options.security),
  });
  const admin = kafka.admin();
  const what = `open ops topic ${topic}`;
  try {
    await withDeadline(admin.connect(), timeouts.operationMs, what, endpoint);
    const metadata = await withDeadline(
      admin.fetchTopicMetadata({ topics: [topic] }),
      timeouts.operationMs,
      what,
      endpoint,
    );
    const actual = metadata.topics[0]?.partitions.length ?? 0;
    if (actual !== partitionCount) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `${what}: it has ${actual} partitions but partitionCount is ${partitionCount}; documents would be looked for in the wrong partitions`,
      );
    }
  } catch (err) {
    await bestEffort(admin.disconnect());
    throw toCollabError(err, what, endpoint);
  }

  const partitionFor = createPartitionFor(topic, partitionCount);
  const open = new Set<{ close(): Promise<void> }>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const assertPartition = (partition: number) => {
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new CollabError('ERR_INVALID_ARGUMENT', `partition ${partition} is not in [0, ${partitionCount})`);
    }
  };
  const assertOpen = () => {
    if (closed) throw new CollabError('ERR_CLOSED', `ops log ${topic} is closed`);
  };
  const track = <T extends { close(): Promise<void> }>(resource: T): T => {
    open.add(resource);
    return resource;
  };

  return {
    partitionCount,
    partitionFor,

    async openWriter(partition: number): Promise<PartitionWriter> {
      assertOpen();
      assertPartition(partition);
      const writer = await openPartitionWriter(kafka, admin, options, partitionFor, partition);
      const close = writer.close.bind(writer);
      writer.close = async () => {
        open.delete(handle);
        await close();
      };
      const handle = track({ close: () => writer.close() });
      return writer;
    },

    read(partition, from, readOptions) {
      assertOpen();
      assertPartition(partition);
      const batchSize = readOptions?.batchSize ?? DEFAULT_READ_BATCH;
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new CollabError('ERR_INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`);
      }
      return readPartition(kafka, admin, options, partition, from, batchSize);
    },

    endOffsets() {
      assertOpen();
      return fetchEndOffsets(admin, options);
    },

    offsetsForTime(time: number) {
      assertOpen();
      return fetchOffsetsForTime(admin, options, time);
    },

    async consume(consumeOptions: ConsumeOptions): Promise<Consumer> {
      assertOpen();
      const consumer = await startGroupConsumer(kafka, options, consumeOptions, {
        topic,
        prepare: (messages) => prepareMessages(messages, options.codec),
        decode: (message, partition) => toLogRecord(message, partition, options.codec),
      });
      const handle = track({ close: () => consumer.stop() });
      return {
        async stop() {
          open.delete(handle);
          await consumer.stop();
        },
      };
    },

    close() {
      closed = true;
      closing ??= (async () => {
        await Promise.allSettled([...open].map((r) => r.close()));
        await bestEffort(admin.disconnect());
      })();
      return closing;
    },
  };
}
