/**
 * consume(): a kafkajs consumer group over the ops topic with the checkpoint discipline of the port.
 *
 * - autoCommit is off. kafkajs still moves its in-memory fetch position past each batch, but the group's
 *   committed offset only moves to (highest checkpoint + 1) — Kafka's committed offset is the *next* record to
 *   read. We commit at most once per COMMIT_INTERVAL_MS after batches, off the fetch loop, and always (awaited)
 *   when a partition is revoked and on stop(); never past a checkpoint.
 * - read_committed: aborted records and those of open transactions are never delivered.
 * - kafkajs has no rebalance listener. Its GROUP_JOIN event carries this member's new assignment; comparing it
 *   with the previous one gives what was assigned and what was revoked. Those callbacks run in order, and a
 *   batch is handled only after the callbacks queued before it have finished (the command-service takes
 *   ownership of a partition in onAssigned before it sees any of its records). onRevoked runs after the
 *   rebalance completed (kafkajs cannot tell us earlier), so a new owner may already be running: the writer
 *   fencing, not the callback, is what keeps one writer per partition.
 * - A member that rejoins under a new member id (session lost, consumer restarted) has everything revoked and
 *   assigned again, even what it gets back (see GROUP_JOIN below).
 * - A handler that throws gets its batch again (kafkajs retries the fetch from the last resolved offset, and
 *   restarts the consumer after its retries): records are redelivered, never skipped.
 */
import { CollabError, type Consumer, type ConsumerContext, type Offset, bestEffort } from '@collab/core';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { toCollabError, withDeadline } from './errors.js';
import type { ResolvedOptions } from './options.js';

/**
 * How often checkpoints are committed while consuming. Every commit is a write to `__consumer_offsets`; committing
 * after each batch cost one per transaction at light load, and its round trip held up the next fetch (a forwarded
 * submission waited for it). A crash redelivers what was checkpointed since the last commit — at most this much
 * more than before — which the port allows: effects are idempotent, forwarded commands deduplicated.
 */
export const COMMIT_INTERVAL_MS = 1_000;

/** What both the ops consumer (ConsumeOptions) and the commands consumer (ConsumeCommandsOptions) are. */
export interface GroupConsumeOptions<R> {
  groupId: string;
  handler: (records: readonly R[], context: ConsumerContext) => Promise<void>;
  fromBeginning?: boolean;
  onAssigned?: (partitions: number[]) => Promise<void> | void;
  onRevoked?: (partitions: number[]) => Promise<void> | void;
  /** See ConsumeOptions.batchWaitMs (core): the broker holds a fetch this long unless 1 MiB is ready. */
  batchWaitMs?: number;
  /** See ConsumeOptions.commitOffsets (core). */
  commitOffsets?: boolean;
}

export interface GroupConsumerSpec<R> {
  /** The topic to consume (the ops topic, or the commands topic). */
  topic: string;
  decode: (message: KafkaMessage, partition: number) => R;
  /** Awaited before a batch is decoded (e.g. schema ids looked up in a registry). */
  prepare?: (messages: readonly KafkaMessage[]) => Promise<void>;
  /** Partitions whose batches may be handled at the same time (kafkajs partitionsConsumedConcurrently). */
  concurrency?: number;
}

export async function startGroupConsumer<R>(
  kafka: Kafka,
  options: ResolvedOptions,
  consume: GroupConsumeOptions<R>,
  spec: GroupConsumerSpec<R>,
): Promise<Consumer> {
  const { logger, endpoint } = options;
  const topic = spec.topic;
  const consumer = kafka.consumer({
    groupId: consume.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout: options.timeouts.sessionMs,
    heartbeatInterval: options.timeouts.heartbeatMs,
    // Without batchWaitMs a fetch returns as soon as one record is there (minBytes 1; 500 ms is only how long an
    // idle fetch is held). With it, the broker holds the fetch until 1 MiB is ready or the wait is over.
    ...(consume.batchWaitMs === undefined || consume.batchWaitMs <= 0
      ? { maxWaitTimeInMs: 500 }
      : { maxWaitTimeInMs: consume.batchWaitMs, minBytes: 1024 * 1024 }),
  });

  let assigned = new Set<number>();
  let callbacks: Promise<void> = Promise.resolve();
  const checkpoints = new Map<number, Offset>(); // highest offset checkpointed per partition
  const committed = new Map<number, Offset>(); // the next offset we last committed per partition
  let stopping = false;
  const inFlight = new Set<Promise<void>>();

  const commit = async (partitions: Iterable<number>): Promise<void> => {
    if (consume.commitOffsets === false) return;
    const offsets = [];
    for (const partition of partitions) {
      const checkpoint = checkpoints.get(partition);
      if (checkpoint === undefined) continue;
      const next = checkpoint + 1n;
      if ((committed.get(partition) ?? -1n) >= next) continue;
      offsets.push({ topic, partition, offset: next.toString() });
    }
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
      for (const { partition, offset } of offsets) committed.set(partition, BigInt(offset));
    } catch (err) {
      // Not fatal: the checkpoint stays pending and the next commit carries it; at worst records are redelivered.
      logger.warn({ err, groupId: consume.groupId, offsets }, 'consumer could not commit offsets');
    }
  };

  // Commits run one after the other (a later one never overtaken by an earlier); `commitSoon` batches them.
  let commits: Promise<void> = Promise.resolve();
  const commitNow = (partitions: Iterable<number>): Promise<void> => {
    const list = [...partitions];
    commits = commits.then(() => commit(list));
    return commits;
  };
  let commitTimer: NodeJS.Timeout | undefined;
  let lastCommitAt = 0;
  const commitSoon = () => {
    if (commitTimer !== undefined || consume.commitOffsets === false) return;
    commitTimer = setTimeout(
      () => {
        commitTimer = undefined;
        lastCommitAt = Date.now();
        // Only what is ours now: a revoked partition was committed when it was revoked, and its new owner's
        // offsets must not be overwritten by a batch of ours that finished after that.
        void commitNow([...checkpoints.keys()].filter((p) => assigned.has(p)));
      },
      Math.max(0, lastCommitAt + COMMIT_INTERVAL_MS - Date.now()),
    );
  };

  const runCallback = async (name: 'onAssigned' | 'onRevoked', partitions: number[]) => {
    try {
      await consume[name]?.(partitions);
    } catch (err) {
      logger.error({ err, groupId: consume.groupId, partitions }, `consumer ${name} failed`);
    }
  };

  let memberId: string | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const now = new Set(payload.memberAssignment[topic] ?? []);
    // A new member id means this consumer was out of the group (its session expired while it was frozen or cut
    // off, or it crashed and restarted): other members may have owned its partitions meanwhile. Everything it had
    // is revoked and everything it has now is assigned afresh, even partitions it gets back — so the command-
    // service gives up a writer that was fenced meanwhile and takes the partition again (a new writer fencing the
    // interim owner, the documents reloaded). Comparing assignments alone, it would go on believing it owned them.
    const rejoined = memberId !== undefined && payload.memberId !== memberId;
    memberId = payload.memberId;
    const before = rejoined ? new Set<number>() : assigned;
    const revoked = [...assigned].filter((p) => rejoined || !now.has(p)).sort((a, b) => a - b);
    const added = [...now].filter((p) => !before.has(p)).sort((a, b) => a - b);
    if (rejoined)
      logger.warn({ groupId: consume.groupId, revoked, added }, 'consumer rejoined its group as a new member');
    assigned = now;
    callbacks = callbacks.then(async () => {
      if (revoked.length > 0) {
        await commitNow(revoked);
        await runCallback('onRevoked', revoked);
      }
      if (added.length > 0) await runCallback('onAssigned', added);
    });
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, restart: payload.restart, groupId: consume.groupId }, 'consumer crashed');
  });

  const what = `consume ${topic} as group ${consume.groupId}`;
  try {
    await withDeadline(
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: consume.fromBeginning ?? false });
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: spec.concurrency ?? 1,
          eachBatch: async ({ batch, isRunning, isStale }) => {
            await callbacks;
            if (stopping || !isRunning() || isStale()) return;
            const partition = batch.partition;
            if (spec.prepare !== undefined) await spec.prepare(batch.messages);
            const records: R[] = batch.messages.map((m) => spec.decode(m, partition));
            const context = {
              partition,
              checkpoint(offset: Offset) {
                if (typeof offset !== 'bigint' || offset < 0n) {
                  throw new CollabError('ERR_INVALID_ARGUMENT', `checkpoint needs a non-negative bigint offset`);
                }
                if (offset > (checkpoints.get(partition) ?? -1n)) checkpoints.set(partition, offset);
              },
            };
            const handled = consume.handler(records, context);
            const tracked = handled.catch(() => {}); // for stop() to wait on; the failure is handled below
            inFlight.add(tracked);
            try {
              await handled;
            } finally {
              inFlight.delete(tracked);
            }
            commitSoon();
          },
        });
      })(),
      options.timeouts.operationMs,
      what,
      endpoint,
    );
  } catch (err) {
    await bestEffort(consumer.disconnect());
    throw toCollabError(err, what, endpoint);
  }

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Let the batch in hand finish, so its checkpoints are committed below rather than redelivered.
        await withDeadline(
          Promise.all(inFlight),
          options.timeouts.operationMs,
          'wait for the last batches',
          endpoint,
        ).catch(() => {}); // past the deadline, commit what is checkpointed and stop anyway
        clearTimeout(commitTimer);
        await commitNow(checkpoints.keys());
        await withDeadline(consumer.disconnect(), options.timeouts.operationMs, `stop ${what}`, endpoint).catch(
          (err: unknown) => logger.warn({ err }, 'consumer did not disconnect cleanly'),
        );
        await callbacks;
        if (assigned.size > 0)
          await runCallback(
            'onRevoked',
            [...assigned].sort((a, b) => a - b),
          );
        assigned = new Set();
      })();
      return stopped;
    },
  };
}
