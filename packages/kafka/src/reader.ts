/**
 * read(partition, from): the records of one partition from `from` up to its end at call time, read_committed.
 *
 * kafkajs has no consumer without a group (no assign()), so each read uses a throwaway group: a unique group id,
 * autoCommit off (it never commits an offset), subscribe, seek the partition to `from`, pause the others, and
 * delete the group afterwards. Cost: one group join per read; with the broker's default
 * group.initial.rebalance.delay.ms (3 s) that join waits 3 s. Reads are for catch-up and replay; streaming uses
 * consume().
 *
 * Termination: the end is the last stable offset at call time (see offsets.ts). We are done once the consumer's
 * position passes it, including past control records and aborted records that are never handed to us as
 * messages; kafkajs reports those through the END_BATCH_PROCESS event's lastOffset.
 */
import { randomUUID } from 'node:crypto';
import { CollabError, type LogRecord, type Offset, bestEffort } from '@collab/core';
import type { Admin, Kafka } from 'kafkajs';
import { toCollabError, withDeadline } from './errors.js';
import { prepareMessages, toLogRecord } from './messages.js';
import { fetchEndOffsets } from './offsets.js';
import type { ResolvedOptions } from './options.js';

export async function* readPartition(
  kafka: Kafka,
  admin: Admin,
  options: ResolvedOptions,
  partition: number,
  from: Offset,
  batchSize: number,
): AsyncGenerator<LogRecord[]> {
  if (from < 0n) throw new CollabError('ERR_INVALID_ARGUMENT', `read from a negative offset ${from}`);
  const end = (await fetchEndOffsets(admin, options))[partition] ?? 0n;
  if (from >= end) return;

  const what = `read ${options.topic} partition ${partition} [${from}, ${end})`;
  const groupId = `${options.clientId}-read-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout: options.timeouts.sessionMs,
    heartbeatInterval: options.timeouts.heartbeatMs,
    maxWaitTimeInMs: 200,
  });

  // A small hand-off between kafkajs's callback and this generator. eachBatch waits until the generator has
  // taken its records, so memory stays bounded by one fetch whatever the partition's size.
  const ready: LogRecord[][] = [];
  let position = from; // every offset below it has been handed over or skipped
  let nextToYield = from; // dedupes records delivered twice around the seek
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  let drained: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  // Only a batch that starts at or before our position moves it: a batch fetched before the seek took effect
  // starts elsewhere (at the partition's latest offset) and must not make us skip what we have not read.
  const advance = (firstOffset: string | null, lastOffset: string) => {
    if (firstOffset === null || BigInt(firstOffset) > position) return;
    const next = BigInt(lastOffset) + 1n;
    if (next > position) position = next;
    signal();
  };

  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === partition) advance(payload.firstOffset, payload.lastOffset);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failure ??= payload.error;
    signal();
  });

  try {
    await withDeadline(
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [options.topic], fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, isStale }) => {
            if (batch.partition !== partition || finished || isStale()) return;
            await prepareMessages(batch.messages, options.codec);
            const records: LogRecord[] = [];
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < nextToYield || offset >= end) continue;
              records.push(toLogRecord(message, partition, options.codec));
              nextToYield = offset + 1n;
            }
            for (let i = 0; i < records.length; i += batchSize) ready.push(records.slice(i, i + batchSize));
            if (records.length > 0) {
              const taken = new Promise<void>((resolve) => (drained = resolve));
              signal();
              await taken;
            }
            advance(batch.firstOffset(), batch.lastOffset());
          },
        });
        consumer.seek({ topic: options.topic, partition, offset: from.toString() });
        const others = Array.from({ length: options.partitionCount }, (_, p) => p).filter((p) => p !== partition);
        if (others.length > 0) consumer.pause([{ topic: options.topic, partitions: others }]);
      })(),
      options.timeouts.operationMs,
      what,
      options.endpoint,
    );

    for (;;) {
      const next = ready.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      drained?.();
      drained = undefined;
      if (failure !== undefined) throw toCollabError(failure, what, options.endpoint);
      if (position >= end) return;
      const progress = new Promise<void>((resolve) => (wake = resolve));
      await withDeadline(progress, options.timeouts.readIdleMs, `${what}: stuck at ${position}`, options.endpoint);
    }
  } catch (err) {
    throw toCollabError(err, what, options.endpoint);
  } finally {
    finished = true;
    drained?.();
    await bestEffort(withDeadline(consumer.disconnect(), options.timeouts.operationMs, 'disconnect reader', ''));
    // The group never committed anything; deleting it now spares the broker an empty group until its cleanup.
    await bestEffort(admin.deleteGroups([groupId]));
  }
}
