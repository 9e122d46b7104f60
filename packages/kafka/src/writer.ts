/**
 * A partition's writer: one transactional kafkajs producer with transactional id `${prefix}-p${partition}`.
 *
 * Why a transactional id per partition: Kafka fences by transactional id. When a new producer with the same id
 * registers (InitProducerId), the broker bumps the id's epoch, aborts whatever the old one had open, and refuses
 * every later request of the old epoch. So whichever instance opened the writer last is the only one whose
 * appends can land: a stale owner that still believes it owns the partition gets ERR_FENCED, never a fork of the
 * history. One id per partition (not per instance) makes ownership move with the partition.
 */
import { CollabError, type AppendInput, type Offset, type PartitionWriter, bestEffort } from '@collab/core';
import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { createTransactionalProducer } from './transactional-producer.js';
import { toCollabError, withDeadline } from './errors.js';
import { toMessage } from './messages.js';
import { fetchEndOffsets } from './offsets.js';
import type { ResolvedOptions } from './options.js';
import type { VisibleOffsets } from './visible-offsets.js';

/**
 * How long an append waits for one of this process's consumers to deliver its records (which proves them
 * readable) before asking the partition's leader. The relay fetches a committed transaction within a few ms of
 * its markers; a consumer that has fallen behind costs the ack this much and then one ListOffsets.
 */
export const DELIVERY_WAIT_MS = 25;

type State = { kind: 'open' } | { kind: 'fenced'; error: CollabError } | { kind: 'closed'; why: string };

export async function openPartitionWriter(
  kafka: Kafka,
  admin: Admin,
  options: ResolvedOptions,
  partitionFor: (docId: string) => number,
  partition: number,
  visible?: VisibleOffsets,
): Promise<PartitionWriter> {
  const transactionalId = `${options.transactionalIdPrefix}-p${partition}`;
  const { producer, lastStableOffset } = createTransactionalProducer(kafka, {
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: options.timeouts.transactionMs,
    allowAutoTopicCreation: false,
  });
  const what = `open writer ${transactionalId}`;
  try {
    await withDeadline(
      (async () => {
        await producer.connect();
        // kafkajs registers a transactional id lazily, at the first transaction. Register it now: this
        // InitProducerId is what fences the previous writer, and it must happen before we claim ownership.
        // Aborting a transaction with nothing in it sends nothing.
        await (await producer.transaction()).abort();
      })(),
      options.timeouts.operationMs,
      what,
      options.endpoint,
    );
  } catch (err) {
    await bestEffort(producer.disconnect());
    throw toCollabError(err, what, options.endpoint);
  }
  options.logger.info({ transactionalId, partition }, 'ops writer open');
  // The end of our partition as read_committed readers see it: from its leader (one request), else the admin.
  const visibleEnd = async (): Promise<bigint> => {
    if (lastStableOffset === undefined) return (await fetchEndOffsets(admin, options))[partition] ?? 0n;
    const what = `last stable offset of ${options.topic} partition ${partition}`;
    try {
      return await withDeadline(
        lastStableOffset(options.topic, partition),
        options.timeouts.requestMs,
        what,
        options.endpoint,
      );
    } catch (err) {
      throw toCollabError(err, what, options.endpoint);
    }
  };
  return new KafkaPartitionWriter(producer, visibleEnd, options, partitionFor, partition, transactionalId, visible);
}

class KafkaPartitionWriter implements PartitionWriter {
  private state: State = { kind: 'open' };
  /** kafkajs allows one open transaction per producer, so appends run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly visibleEnd: () => Promise<bigint>,
    private readonly options: ResolvedOptions,
    private readonly partitionFor: (docId: string) => number,
    readonly partition: number,
    private readonly transactionalId: string,
    private readonly visible: VisibleOffsets | undefined,
  ) {}

  append(records: readonly AppendInput[]): Promise<Offset[]> {
    const run = this.queue.then(() => this.appendNow(records));
    this.queue = run.catch(() => {}); // the next append runs after this one, however it ended (its caller sees it)
    return run;
  }

  private async appendNow(records: readonly AppendInput[]): Promise<Offset[]> {
    this.assertUsable();
    for (const [i, r] of records.entries()) {
      const home = this.partitionFor(r.value.docId);
      if (home !== this.partition) {
        throw new CollabError(
          'ERR_INVALID_ARGUMENT',
          `record ${i} (doc ${r.value.docId}) belongs to partition ${home}, not to this writer's ${this.partition}`,
        );
      }
    }
    if (records.length === 0) return [];
    // Encode before the transaction starts: a record that does not fit the schema must not cost a transaction.
    const messages = records.map((r) => toMessage(r, this.partition, this.options.codec));
    const what = `append ${records.length} record(s) to ${this.options.topic} partition ${this.partition}`;
    try {
      return await withDeadline(this.transact(messages), this.options.timeouts.appendMs, what, this.options.endpoint);
    } catch (err) {
      const error = toCollabError(err, what, this.options.endpoint);
      if (error.code === 'ERR_FENCED') {
        this.state = { kind: 'fenced', error };
        this.options.logger.warn({ transactionalId: this.transactionalId }, 'ops writer fenced');
        void this.close();
      } else if (error.code === 'ERR_TIMEOUT') {
        // The transaction may still be running inside kafkajs and its outcome is unknown; this producer cannot
        // be trusted with another one. Reopening the writer bumps the epoch, which aborts it if still open.
        this.state = { kind: 'closed', why: 'an append timed out (reopen the writer)' };
        void this.close();
      }
      throw error;
    }
  }

  private async transact(messages: ReturnType<typeof toMessage>[]): Promise<Offset[]> {
    let transaction: Transaction | undefined;
    try {
      transaction = await this.producer.transaction();
      // Inside a transaction kafkajs always uses acks=all (-1); say it anyway.
      const metadata = await transaction.send({ topic: this.options.topic, messages, acks: -1 });
      await transaction.commit();
      const sent = metadata.find((m) => m.partition === this.partition);
      if (sent?.baseOffset === undefined) {
        throw new Error(`produce response has no base offset for partition ${this.partition}`);
      }
      // One send to one partition is one record batch, so the records got consecutive offsets.
      const base = BigInt(sent.baseOffset);
      const offsets = messages.map((_, i) => base + BigInt(i));
      await this.waitUntilVisible(offsets[offsets.length - 1]!);
      return offsets;
    } catch (err) {
      // Abort so that nothing of this transaction becomes visible to read_committed readers. For a fenced
      // producer the abort fails too (the broker already aborted it when the new writer registered): ignore.
      if (transaction?.isActive()) await bestEffort(transaction.abort());
      throw err;
    }
  }

  /**
   * Read-your-writes: the commit returns once the transaction coordinator has logged the decision, but it writes
   * the commit markers into the partition a moment later, and until then the records sit above the last stable
   * offset, invisible to read_committed readers and to endOffsets(). We resolve append() only once the last
   * stable offset has passed our last record, so an acknowledged op is visible to every reader (one ListOffsets
   * round trip to the partition's leader when the markers are already there, which is almost always). It also
   * spares the next transaction a CONCURRENT_TRANSACTIONS retry (100 ms of kafkajs backoff): measured without
   * this wait, 1 % of transactions hit it.
   *
   * The cheap proof comes first: a read_committed consumer of this process (the command-service's relay) that
   * was handed the records (visible-offsets.ts). The leader is asked only when none is seen in time.
   */
  private async waitUntilVisible(last: Offset): Promise<void> {
    if (await this.visible?.waitFor(this.partition, last, DELIVERY_WAIT_MS)) return;
    const deadline = Date.now() + this.options.timeouts.appendMs;
    for (let delayMs = 2; ; delayMs = Math.min(delayMs * 2, 50)) {
      if (this.visible?.has(this.partition, last) === true || (await this.visibleEnd()) > last) return;
      if (Date.now() > deadline) {
        throw new CollabError('ERR_TIMEOUT', `committed offset ${last} did not become readable in time`, {
          endpoint: this.options.endpoint,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  private assertUsable(): void {
    if (this.state.kind === 'fenced') throw this.state.error;
    if (this.state.kind === 'closed') {
      throw new CollabError('ERR_CLOSED', `writer of partition ${this.partition} is closed: ${this.state.why}`);
    }
  }

  close(): Promise<void> {
    if (this.state.kind === 'open') this.state = { kind: 'closed', why: 'close() was called' };
    this.closing ??= (async () => {
      await this.queue;
      await withDeadline(this.producer.disconnect(), this.options.timeouts.operationMs, 'close writer', '').catch(
        (err: unknown) => this.options.logger.warn({ err }, 'ops writer did not disconnect cleanly'),
      );
    })();
    return this.closing;
  }
}
