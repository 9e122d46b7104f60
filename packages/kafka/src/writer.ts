/**
 * A partition's writer: idempotent produces with acks=all, fenced by the partition's leader through the producer
 * epoch of transactional id `${prefix}-p${partition}` — no transaction per append.
 *
 * How a stale owner is fenced (docs/architecture.md, "Fencing by the producer epoch"):
 * 1. Opening the writer *claims* the partition: a transactional producer with the partition's id registers
 *    (InitProducerId bumps the id's epoch), sends one record to the partition and aborts. The record is written
 *    with the new epoch, so from then on the partition's leader refuses every batch of the producer id with an
 *    older epoch (INVALID_PRODUCER_EPOCH → ERR_FENCED): a previous owner's appends either landed before the
 *    claim or never land. The abort keeps the claim out of every read_committed reader's sight (ours, and the
 *    data teams', whose contract already is read_committed).
 * 2. The writer waits until the partition's last stable offset has passed the claim (its abort marker is in
 *    place), so that everything before the claim — the previous owner's last appends included — is readable
 *    before anything is loaded or sequenced on top of it.
 * 3. Appends go through an idempotent producer that takes the id's next epoch (createEpochProducer). A produce
 *    with acks=all is answered once the high watermark has passed it, and no transaction is open in the
 *    partition while we own it, so an acknowledged append is readable by every read_committed reader at once.
 *
 * The claim is renewed every `claimRenewalMs` (default one hour), between two appends, under the epoch held: an
 * empty transaction (AddPartitionsToTxn, EndTxn abort, whose marker lands in the partition). The transaction
 * coordinator forgets an id unused for `transactional.id.expiration.ms` (7 days by default) and a leader forgets
 * a producer id silent for `producer.id.expiration.ms` (1 day); either would let the next owner's claim start
 * from a new producer id that does not fence the old one. A renewal never raises the epoch: a stale owner's
 * renewal is refused, where a fresh claim would take the partition back.
 *
 * Why one transactional id per partition (not per instance): ownership moves with the partition, and so does
 * the epoch that fences.
 */
import { CollabError, type AppendInput, type Offset, type PartitionWriter, bestEffort } from '@collab/core';
import type { Admin, Kafka } from 'kafkajs';
import { createEpochProducer, createTransactionalProducer, type EpochProducer } from './producers.js';
import { isOutOfSequence, toCollabError, withDeadline } from './errors.js';
import { toMessage } from './messages.js';
import { fetchEndOffsets } from './offsets.js';
import type { ResolvedOptions } from './options.js';

type State = { kind: 'open' } | { kind: 'fenced'; error: CollabError } | { kind: 'closed'; why: string };

/** How long an append refused as out of sequence is sent again before the writer gives up on it. */
export const OUT_OF_SEQUENCE_RETRY_MS = 1_000;

/**
 * Each opening takes two epochs. Kafka gives a transactional id a new producer id at epoch 0 once its epoch runs
 * out (32,767), and a stale owner holding the old producer id would not be refused by the leader: warn well
 * before.
 */
export const EPOCH_WARNING = 30_000;

/** The header that marks a claim record (only read_uncommitted readers ever see one: it is aborted). */
export const CLAIM_HEADER = 'collab-claim';

export async function openPartitionWriter(
  kafka: Kafka,
  admin: Admin,
  options: ResolvedOptions,
  partitionFor: (docId: string) => number,
  partition: number,
): Promise<PartitionWriter> {
  const transactionalId = `${options.transactionalIdPrefix}-p${partition}`;
  const producer = await claimPartition(kafka, admin, options, transactionalId, partition);
  options.logger.info({ transactionalId, partition }, 'ops writer open');
  return new KafkaPartitionWriter(producer, options, partitionFor, partition, transactionalId);
}

/**
 * Claims the partition (steps 1 and 2 above) and returns the connected producer for its appends (step 3).
 * Fails with ERR_FENCED when a newer claim overtook this one.
 */
async function claimPartition(
  kafka: Kafka,
  admin: Admin,
  options: ResolvedOptions,
  transactionalId: string,
  partition: number,
): Promise<EpochProducer> {
  const what = `claim ${options.topic} partition ${partition} as ${transactionalId}`;
  const {
    producer: claimer,
    lastStableOffset,
    registered,
  } = createTransactionalProducer(kafka, {
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: options.timeouts.transactionMs,
    allowAutoTopicCreation: false,
  });
  const epochProducer = createEpochProducer(kafka, transactionalId, { allowAutoTopicCreation: false });
  if (epochProducer === undefined) {
    throw new CollabError(
      'ERR_UNAVAILABLE',
      `${what}: kafkajs's producer internals were not found (see producers.ts)`,
      {
        retriable: false,
      },
    );
  }
  const appender = epochProducer.producer;
  // The end of the partition as read_committed readers see it: from its leader (one request), else the admin.
  const visibleEnd = async (): Promise<bigint> =>
    lastStableOffset === undefined
      ? ((await fetchEndOffsets(admin, options))[partition] ?? 0n)
      : lastStableOffset(options.topic, partition);
  const disconnectBoth = () => Promise.all([bestEffort(claimer.disconnect()), bestEffort(appender.disconnect())]);
  const claiming = (async () => {
    await claimer.connect();
    const transaction = await claimer.transaction();
    let claim: bigint;
    try {
      const [sent] = await transaction.send({
        topic: options.topic,
        acks: -1,
        messages: [{ partition, key: null, value: null, headers: { [CLAIM_HEADER]: transactionalId } }],
      });
      if (sent?.baseOffset === undefined) throw new Error('the claim produce response has no offset');
      claim = BigInt(sent.baseOffset);
    } catch (err) {
      await bestEffort(transaction.abort()); // fenced by a newer claim: the broker has aborted it already
      throw err;
    }
    await transaction.abort();
    for (let delayMs = 2; (await visibleEnd()) <= claim; delayMs = Math.min(delayMs * 2, 50)) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    await appender.connect(); // InitProducerId: the id's next epoch, for the appends
    // The appends' epoch must be the claim's next one. Had another writer registered the id in between, its
    // claim could sit between ours and our first append, and our appends (of a newer epoch than that claim) would
    // land after the point it loaded its documents at: a fork. Give way instead; it owns the partition.
    const claimed = registered();
    const appending = epochProducer.registered();
    if (
      claimed === undefined ||
      appending === undefined ||
      appending.producerId !== claimed.producerId ||
      appending.producerEpoch !== claimed.producerEpoch + 1
    ) {
      throw new CollabError(
        'ERR_FENCED',
        `${what}: another writer registered ${transactionalId} while this one claimed the partition (claim ${JSON.stringify(claimed)}, appends ${JSON.stringify(appending)})`,
        { retriable: false },
      );
    }
    if (appending.producerEpoch >= EPOCH_WARNING) {
      options.logger.warn(
        { transactionalId, ...appending },
        'ops writer epoch is near its end (32767): at a full stop of every command-service, set a new transactionalIdPrefix (packages/kafka/README.md, "Fencing")',
      );
    }
  })();
  try {
    await withDeadline(claiming, options.timeouts.operationMs, what, options.endpoint);
  } catch (err) {
    // Past the deadline the claim may still be running inside kafkajs (it has no cancellation): disconnect both
    // producers now, and again once it has settled, so that nothing it connects later stays open.
    await disconnectBoth();
    void claiming.then(disconnectBoth, disconnectBoth);
    throw toCollabError(err, what, options.endpoint);
  }
  await bestEffort(claimer.disconnect());
  return epochProducer;
}

class KafkaPartitionWriter implements PartitionWriter {
  private state: State = { kind: 'open' };
  /** One produce in flight at a time (idempotence needs it); appends and claim renewals run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly renewal: NodeJS.Timeout;
  /** The last produce handed to kafkajs, which goes on retrying it after our deadline (it has no cancellation). */
  private sending: Promise<unknown> | undefined;

  constructor(
    private readonly epochProducer: EpochProducer,
    private readonly options: ResolvedOptions,
    private readonly partitionFor: (docId: string) => number,
    readonly partition: number,
    private readonly transactionalId: string,
  ) {
    this.renewal = setInterval(() => void this.renewClaim(), options.timeouts.claimRenewalMs);
    this.renewal.unref();
  }

  append(records: readonly AppendInput[]): Promise<Offset[]> {
    return this.enqueue(() => this.appendNow(records));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => {}); // the next one runs after this one, however it ended (its caller sees it)
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
    // Encode before sending: a record that does not fit the schema must not cost a produce.
    const messages = records.map((r) => toMessage(r, this.partition, this.options.codec));
    const what = `append ${records.length} record(s) to ${this.options.topic} partition ${this.partition}`;
    const started = Date.now();
    for (let delayMs = 10; ; delayMs *= 2) {
      try {
        const sending = this.epochProducer.producer.send({ topic: this.options.topic, messages, acks: -1 });
        this.sending = sending;
        const metadata = await withDeadline(sending, this.options.timeouts.appendMs, what, this.options.endpoint);
        const sent = metadata.find((m) => m.partition === this.partition);
        if (sent?.baseOffset === undefined) {
          throw new Error(`produce response has no base offset for partition ${this.partition}`);
        }
        // One send to one partition is one record batch, so the records got consecutive offsets.
        const base = BigInt(sent.baseOffset);
        return messages.map((_, i) => base + BigInt(i));
      } catch (err) {
        // While a newer claim's batch is being verified with its transaction coordinator, the leader refuses our
        // batches as out of sequence (nothing of them is appended) rather than of an old epoch; once the claim is
        // appended it says INVALID_PRODUCER_EPOCH. Send the same batch again (kafkajs has given its sequence
        // back) for a moment, so that a fence is reported as one, not as an outage that would reopen the writer.
        if (isOutOfSequence(err) && Date.now() - started + delayMs <= OUT_OF_SEQUENCE_RETRY_MS) {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          continue;
        }
        throw this.failed(toCollabError(err, what, this.options.endpoint));
      }
    }
  }

  /**
   * After a failed append. Fenced: a newer owner claimed the partition; whatever of ours landed did so before its
   * claim, and it has read it. Otherwise (a timeout, a refused sequence, a broker gone) the outcome is unknown and
   * this producer cannot be trusted with another produce: reopening the writer claims the partition afresh, so
   * nothing still in flight can land after the claim, and a reload after it reads the truth.
   */
  private failed(error: CollabError): CollabError {
    if (error.code === 'ERR_FENCED') {
      this.state = { kind: 'fenced', error };
      this.options.logger.warn({ transactionalId: this.transactionalId }, 'ops writer fenced');
    } else {
      this.state = { kind: 'closed', why: `an append failed with ${error.code} (reopen the writer)` };
    }
    void this.close();
    return error;
  }

  /**
   * Renews the claim between two appends, under the epoch we hold (why: the module's comment). Never by claiming
   * afresh: a stale owner that had not noticed its fence yet would take the partition back from its new owner
   * and go on sequencing on a state that misses the new owner's records. Refused (fenced) is how a stale owner
   * learns it is one.
   */
  private renewClaim(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state.kind !== 'open') return;
      const what = `renew the claim of ${this.options.topic} partition ${this.partition}`;
      try {
        await withDeadline(
          this.epochProducer.renew(this.options.topic, this.partition),
          this.options.timeouts.operationMs,
          what,
          this.options.endpoint,
        );
        this.options.logger.debug({ transactionalId: this.transactionalId }, 'ops writer claim renewed');
      } catch (err) {
        const error = toCollabError(err, what, this.options.endpoint);
        // Any other failure is tried again at the next interval; the claim holds meanwhile.
        if (error.code === 'ERR_FENCED') this.failed(error);
        else this.options.logger.warn({ err: error }, 'ops writer claim not renewed');
      }
    });
  }

  private assertUsable(): void {
    if (this.state.kind === 'fenced') throw this.state.error;
    if (this.state.kind === 'closed') {
      throw new CollabError('ERR_CLOSED', `writer of partition ${this.partition} is closed: ${this.state.why}`);
    }
  }

  close(): Promise<void> {
    if (this.state.kind === 'open') this.state = { kind: 'closed', why: 'close() was called' };
    clearInterval(this.renewal);
    this.closing ??= (async () => {
      await this.queue;
      const disconnect = () =>
        withDeadline(this.epochProducer.producer.disconnect(), this.options.timeouts.operationMs, 'close writer', '');
      await disconnect().catch((err: unknown) =>
        this.options.logger.warn({ err }, 'ops writer did not disconnect cleanly'),
      );
      // A produce abandoned at its deadline may reconnect to retry after this: disconnect again once it settles.
      const sending = this.sending;
      if (sending !== undefined) void sending.then(disconnect, disconnect).catch(() => {});
    })();
    return this.closing;
  }
}
