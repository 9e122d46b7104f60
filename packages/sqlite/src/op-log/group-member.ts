/**
 * One member of a consumer group: the partitions the coordinator gave it, a position and a checkpoint per
 * partition, and one loop that hands batches to the handler.
 *
 * - Position vs. committed offset. After a batch is handled the member moves its in-memory position past it,
 *   whatever was checkpointed, so a running member sees each record once. The committed offset (the table
 *   log_group_offsets, "next offset to read") only ever moves to the highest checkpoint + 1: after a batch when
 *   the last commit is a second old (COMMIT_EVERY_MS), whenever the member runs out of records, when a partition
 *   is revoked, on stop(), and shortly after a checkpoint() made outside a batch. A new owner of the partition
 *   starts from the committed offset, so it gets everything that was not checkpointed again.
 * - `batchWaitMs` (ConsumeOptions): once the member has run out of records and new ones arrive, it waits that
 *   long before it reads them, so a consumer that pays per batch gets fewer, bigger ones (as Kafka's fetch wait).
 * - A handler that throws gets the same batch again after a backoff (1/2 s doubling to 5 s): records are
 *   redelivered, never skipped, and checkpoints it made before throwing still count.
 * - Batches run one at a time per member, partitions taken in turn so a busy partition cannot starve the others.
 *   A revoked partition is taken out of the rotation at once; revoke() then waits for the batch in hand, so its
 *   checkpoints are committed before the next owner reads the committed offset.
 * - Waiting for records: the storage's AppendSignal wakes the member after appends in this process, the poll
 *   timer after appends elsewhere on the file.
 */
import {
  CollabError,
  type ConsumeOptions,
  type Consumer,
  type ConsumerContext,
  type LogRecord,
  type Offset,
} from '@collab/core';
import { guard } from '../errors.js';
import { endOffsets, type LogContext } from './context.js';
import { decodeRecord } from './records.js';

interface PartitionState {
  readonly partition: number;
  /** The next offset to deliver. */
  position: Offset;
  /** The last offset handed to the handler (-1 before any): checkpoints past it are refused. */
  delivered: Offset;
  /** The highest checkpoint, if any since the partition was assigned. */
  checkpoint: Offset | undefined;
  /** The next offset as last committed (-1 when this member has committed nothing). */
  committed: Offset;
  /** Set once the partition is revoked: later checkpoints belong to the next owner's history, not ours. */
  revoked: boolean;
}

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5_000;
/**
 * While batches keep coming, checkpoints are committed at most this often: each commit is a transaction with its
 * own fsync on the event loop (a profile of bench:load --embedded found offset commits at 12 % of the server's
 * time). A crash replays at most this much more; consumers are idempotent. Revocation and stop commit at once.
 */
const COMMIT_EVERY_MS = 1_000;

export class GroupMember implements Consumer {
  private readonly owned = new Map<number, PartitionState>();
  private readonly loop: Promise<void>;
  private inFlight: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  private rotation = 0;
  private failures = 0;
  /** A batch (and its retry backoff) is in hand: checkpoints wait for the commit that follows it. */
  private handling = false;
  private lastCommitAt = 0;

  constructor(
    private readonly ctx: LogContext,
    private readonly options: ConsumeOptions,
    /** Tells the coordinator this member is leaving; resolves once its partitions are revoked. */
    private readonly leaveGroup: (member: GroupMember) => Promise<void>,
  ) {
    this.loop = this.run();
  }

  get groupId(): string {
    return this.options.groupId;
  }

  partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.wake();
      await this.loop;
      await this.leaveGroup(this);
    })();
    return this.stopped;
  }

  /** Called by the coordinator: run onAssigned, then start delivering from the committed offsets. */
  async assign(partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0 || this.stopping) return;
    await this.callback('onAssigned', partitions);
    const { groupId } = this.options;
    const committed = new Map(
      guard('read committed offsets', this.ctx.endpoint, () => this.ctx.sql.committedOffsets.all(groupId)).map(
        (row) => [row.partition_id, BigInt(row.next_offset)] as const,
      ),
    );
    const ends = guard('read end offsets', this.ctx.endpoint, () => endOffsets(this.ctx));
    for (const partition of partitions) {
      const start = committed.get(partition) ?? (this.options.fromBeginning === true ? 0n : ends[partition]!);
      this.owned.set(partition, {
        partition,
        position: start,
        delivered: start - 1n,
        checkpoint: undefined,
        committed: committed.get(partition) ?? -1n,
        revoked: false,
      });
    }
    this.ctx.logger.debug({ groupId, partitions }, 'sqlite op log: partitions assigned');
    this.wake();
  }

  /** Called by the coordinator: stop delivering, let the batch in hand finish, commit, then run onRevoked. */
  async revoke(partitions: readonly number[]): Promise<void> {
    const states = partitions.flatMap((p) => this.owned.get(p) ?? []);
    if (states.length === 0) return;
    for (const state of states) this.owned.delete(state.partition);
    this.wake(); // cuts short a handler-failure backoff: the batch it would retry is no longer ours
    await this.inFlight;
    this.commit(states);
    for (const state of states) state.revoked = true;
    this.ctx.logger.debug({ groupId: this.groupId, partitions }, 'sqlite op log: partitions revoked');
    await this.callback(
      'onRevoked',
      states.map((s) => s.partition),
    );
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let batch: { state: PartitionState; records: LogRecord[] } | undefined;
      try {
        batch = this.nextBatch();
      } catch (err) {
        this.ctx.logger.warn({ err, groupId: this.groupId }, 'sqlite op log: consumer could not read');
        await this.idle(this.backoff(), false);
        continue;
      }
      if (batch === undefined) {
        this.commit([...this.owned.values()]); // checkpoints made outside a batch, and those not committed yet
        await this.idle(this.ctx.pollIntervalMs, true);
        // Woken by new records: a consumer that pays per batch (the projection) asked to wait for more.
        const waitMs = this.options.batchWaitMs ?? 0;
        if (waitMs > 0 && !this.stopping) await this.idle(waitMs, false);
        continue;
      }
      this.handling = true;
      this.inFlight = this.handle(batch.state, batch.records);
      await this.inFlight;
      this.handling = false;
    }
  }

  /** The next batch of the next partition (in turn) that has records past its position. */
  private nextBatch(): { state: PartitionState; records: LogRecord[] } | undefined {
    const partitions = this.partitions();
    if (partitions.length === 0) return undefined;
    const ends = endOffsets(this.ctx);
    for (let i = 0; i < partitions.length; i++) {
      const index = (this.rotation + i) % partitions.length;
      const state = this.owned.get(partitions[index]!)!;
      const end = ends[state.partition]!;
      if (state.position >= end) continue;
      const rows = this.ctx.sql.readRange.all(state.partition, state.position, end, this.ctx.batchSize);
      if (rows.length === 0) continue;
      this.rotation = index + 1;
      return { state, records: rows.map(decodeRecord) };
    }
    return undefined;
  }

  private async handle(state: PartitionState, records: LogRecord[]): Promise<void> {
    const last = records[records.length - 1]!.offset;
    if (last > state.delivered) state.delivered = last;
    const context: ConsumerContext = {
      partition: state.partition,
      checkpoint: (offset) => this.checkpoint(state, offset),
    };
    try {
      await this.options.handler(records, context);
      state.position = last + 1n;
      this.failures = 0;
    } catch (err) {
      // The position stays: the same records come again after the backoff.
      this.ctx.logger.error(
        { err, groupId: this.groupId, partition: state.partition, from: records[0]!.offset },
        'sqlite op log: handler failed, redelivering its batch',
      );
      await this.idle(this.backoff(), false);
    }
    // A partition revoked meanwhile is not in `owned`: revoke() commits it once this batch is done.
    if (Date.now() - this.lastCommitAt >= COMMIT_EVERY_MS) this.commit([...this.owned.values()]);
  }

  private checkpoint(state: PartitionState, offset: Offset): void {
    if (typeof offset !== 'bigint' || offset < 0n) {
      throw new CollabError('ERR_INVALID_ARGUMENT', 'checkpoint needs a non-negative bigint offset');
    }
    if (offset > state.delivered) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `checkpoint ${offset} of partition ${state.partition} is past the last delivered offset ${state.delivered}`,
      );
    }
    if (state.revoked) {
      this.ctx.logger.debug({ partition: state.partition, offset }, 'sqlite op log: checkpoint after revoke ignored');
      return;
    }
    if (state.checkpoint === undefined || offset > state.checkpoint) state.checkpoint = offset;
    // Made outside a batch (a write-behind effect became durable later): wake the idle loop to commit it now.
    if (!this.handling) this.wake();
  }

  /** Commit the checkpoints that moved, in one transaction. Failures are logged: the checkpoint stays pending. */
  private commit(states: readonly PartitionState[]): void {
    const due = states.filter((s) => s.checkpoint !== undefined && s.checkpoint + 1n > s.committed);
    if (due.length === 0 || !this.ctx.db.open) return;
    const now = Date.now();
    try {
      guard('commit offsets', this.ctx.endpoint, () =>
        this.ctx.db
          .transaction(() => {
            for (const s of due) this.ctx.sql.commitOffset.run(this.groupId, s.partition, s.checkpoint! + 1n, now);
          })
          .immediate(),
      );
      for (const s of due) s.committed = s.checkpoint! + 1n;
      this.lastCommitAt = Date.now();
    } catch (err) {
      this.ctx.logger.warn({ err, groupId: this.groupId }, 'sqlite op log: could not commit offsets');
    }
  }

  private async callback(name: 'onAssigned' | 'onRevoked', partitions: readonly number[]): Promise<void> {
    try {
      await this.options[name]?.([...partitions]);
    } catch (err) {
      this.ctx.logger.error({ err, groupId: this.groupId, partitions }, `sqlite op log: ${name} failed`);
    }
  }

  private backoff(): number {
    this.failures++;
    return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
  }

  private wake(): void {
    if (this.wakeUp !== undefined) this.wakeUp();
    else this.wakePending = true;
  }

  /** Wait `ms`, or less when woken (stop, assignment, checkpoint) or, if `onAppend`, when records are appended. */
  private idle(ms: number, onAppend: boolean): Promise<void> {
    if (this.stopping || this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let unsubscribe = (): void => {};
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (onAppend) unsubscribe = this.ctx.signal.subscribe(done);
      this.wakeUp = done;
    });
  }
}
