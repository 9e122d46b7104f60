/**
 * All documents open on this instance. Sessions talk to the hub by document id; the hub loads replicas on first
 * use, keeps them while anyone is subscribed, and hands each one the committer of its partition while this
 * instance owns that partition (and so may sequence it).
 *
 * Ownership comes from outside (the op log's consumer group, or "everything" in the embedded mode): taking a
 * partition opens its writer first — which fences any previous owner — and only then reloads the partition's
 * open documents from the log, so no op committed by the previous owner is missed.
 */
import {
  bestEffort,
  forwardedDocId,
  isCollabError,
  isForwardedComment,
  type CommandReply,
  type DocumentState,
  type ForwardedCommand,
  type LogValue,
  type OpCommitted,
  type OpLog,
  type PartitionWriter,
  type Submission,
} from '@collab/core';
import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { ServerMessage } from '@collab/protocol';
import { catchupMessages, missingBeforeWindow, PendingSubscriber } from './catchup.js';
import type { ChannelSettings, CommentOutcome, CommentRequest, Subscriber, SubmitOutcome } from './document-channel.js';
import { commentsFrames } from './comment-frames.js';
import { DocumentChannel } from './document-channel.js';
import { loadFromLog } from './document-loader.js';
import type { DocumentSource } from './document-source.js';
import { createLogSource } from './log-source.js';
import type { Forwarder } from './forwarder.js';
import { PartitionCommitter } from './partition-committer.js';
import { instruments, secondsSince } from '../telemetry.js';

export interface HubSettings extends ChannelSettings {
  /**
   * A client further behind than this many versions gets the whole text instead of the missing ops. Ops older
   * than the in-memory window (`window`) come from `olderOps` (the read models, then the log).
   */
  catchupLimit: number;
  /** A catch-up of more ops' bytes than this is replaced by the whole text. */
  maxCatchupBytes: number;
  /** Snapshots and catch-ups larger than this go out in parts (frames.ts). */
  maxFrameBytes: number;
}

/** How long a reload keeps retrying (the log or Kafka unreachable) before its subscribers are dropped. */
const RELOAD_PATIENCE_MS = 120_000;
/** How many times the assigned owner tries to open a partition's writer that gave way (100 ms, 200 ms, … apart). */
const OPEN_WRITER_ATTEMPTS = 5;

export class DocumentHub {
  private readonly channels = new Map<string, Promise<DocumentChannel>>();
  private readonly committers = new Map<number, PartitionCommitter>();
  /** Channels dropped while their last appends were in flight: a new load of the document waits for them. */
  private readonly retiring = new Map<string, Promise<void>>();
  /** What a document's channel being created waits for right now (for the slow-open warning). */
  private readonly creating = new Map<string, string>();

  constructor(
    private readonly log: OpLog,
    private readonly settings: HubSettings,
    private readonly logger: Logger,
    private readonly load: (docId: string) => Promise<DocumentState> = (docId) =>
      loadFromLog(log, docId, settings.window),
    /** Present in the multi-instance mode: where submissions for documents owned elsewhere go. */
    private readonly forwarder?: Forwarder,
    /** Catch-up beyond the window: committed ops from..to (inclusive), or undefined when not all can be read. */
    private readonly olderOps: DocumentSource['opsBetween'] = createLogSource({ log, window: settings.window })
      .opsBetween,
  ) {}

  get ownedPartitions(): number[] {
    return [...this.committers.keys()].filter((p) => this.owns(p)).sort((a, b) => a - b);
  }

  /** Whether this instance sequences the partition: it was assigned it and no newer writer has fenced ours. */
  owns(partition: number): boolean {
    return this.committers.get(partition)?.fenced === false;
  }

  /** Documents held in memory (replicas and sequencers). */
  get openDocuments(): number {
    return this.channels.size;
  }

  async takeOwnership(partitions: readonly number[]): Promise<void> {
    await Promise.all(
      partitions
        // A committer fenced by a newer owner is replaced: the partition is ours again, through a new writer.
        .filter((p) => !this.owns(p))
        .map(async (partition) => {
          const writer = await this.openAssignedWriter(partition); // fences the previous owner
          const stale = this.committers.get(partition);
          // After an append of unknown outcome the committer replaces its writer (fencing the doubtful one).
          this.committers.set(partition, new PartitionCommitter(writer, () => this.log.openWriter(partition)));
          if (stale !== undefined) void bestEffort(stale.close());
          this.logger.info({ partition }, 'took ownership of partition');
        }),
    );
    // Replicas of these partitions may lag what the previous owner committed: reload them from the log.
    const affected = [...this.channels.keys()].filter((docId) => partitions.includes(this.log.partitionFor(docId)));
    await Promise.all(
      affected.map(async (docId) => {
        // A channel loaded after our writer fenced the previous owner is already current (and may be sequencing).
        const channel = await settledChannel(this.channels.get(docId));
        if (channel?.committer === undefined || channel.committer.fenced) {
          await this.reload(docId, 'partition ownership changed');
        }
      }),
    );
  }

  /**
   * Opens the writer of a partition the group assigned here. An opening refused as fenced lost a race with
   * another registration of the partition's writer (a stale owner reopening its writer in doubt, say: the Kafka
   * writer gives way rather than risk a fork). Giving up would leave the partition unowned until the next
   * rebalance, so the assigned owner tries again, a few times, with backoff; its next claim fences the other.
   */
  private async openAssignedWriter(partition: number): Promise<PartitionWriter> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.log.openWriter(partition);
      } catch (err) {
        if (!isCollabError(err, 'ERR_FENCED') || attempt >= OPEN_WRITER_ATTEMPTS) throw err;
        this.logger.warn({ err, partition, attempt }, 'opening the writer of an assigned partition gave way; retrying');
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
      }
    }
  }

  async releaseOwnership(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) {
      const committer = this.committers.get(partition);
      if (committer === undefined) continue;
      this.committers.delete(partition);
      for (const [docId, pending] of this.channels) {
        if (this.log.partitionFor(docId) === partition) {
          // New submissions get ERR_NOT_OWNER (and are forwarded to the new owner); those in flight land or fail.
          const channel = await settledChannel(pending);
          if (channel !== undefined) channel.committer = undefined;
        }
      }
      await committer.close().catch((err: unknown) => this.logger.warn({ err, partition }, 'closing writer failed'));
      this.logger.info({ partition }, 'released partition');
    }
  }

  /**
   * Subscribe to a document and send the subscriber what brings it up to date. Both happen in one synchronous
   * step: an op committed in between would otherwise reach the subscriber before its snapshot or catch-up.
   */
  async open(subscriber: Subscriber, docId: string, fromVersion?: number): Promise<void> {
    let channel = await this.current(docId);
    if (fromVersion !== undefined && fromVersion > channel.current.version && channel.committer === undefined) {
      // A client reconnecting from another instance can know versions our relay has not shown us yet. It was
      // acked only once they were durable and readable, so the log has them: reload rather than resync it.
      await this.reload(docId, `a client is at version ${fromVersion}, ahead of this replica`);
      channel = await this.current(docId);
    }
    const state = channel.current;
    const missing = missingBeforeWindow(state, fromVersion, this.settings.catchupLimit);
    // A repeated open (the client's open timed out, or it saw a gap) answers for everything: an earlier one still
    // reading its catch-up must send nothing.
    const earlier = channel.subscribers.get(subscriber.id);
    if (earlier instanceof PendingSubscriber) earlier.supersede();
    if (missing === undefined) {
      for (const message of this.upToDate(state, fromVersion)) subscriber.deliver(message);
      channel.subscribers.set(subscriber.id, subscriber);
      return;
    }
    // Behind the in-memory window: the older ops come from storage, which takes a while. Subscribe now, in the same
    // synchronous step as reading `state`, through a stand-in that holds back what the channel sends meanwhile; once
    // the older ops are in, the client gets the catch-up up to `state`, then what was held back, in order.
    const pending = new PendingSubscriber(subscriber);
    channel.subscribers.set(subscriber.id, pending);
    let older: OpCommitted[] | undefined;
    try {
      older = await this.fetchOlder(docId, missing.from, missing.to);
    } finally {
      pending.release(this.upToDate(state, fromVersion, older ?? []));
    }
  }

  async close(subscriber: Subscriber, docId: string): Promise<void> {
    const pending = this.channels.get(docId);
    if (pending === undefined) return;
    // A channel whose load failed has nobody subscribed (its entry is gone already, or about to be).
    const channel = await settledChannel(pending);
    if (channel === undefined) return;
    channel.subscribers.delete(subscriber.id);
    if (channel.subscribers.size === 0 && this.channels.get(docId) === pending) {
      // Nobody is looking: free the memory. The log has everything; the next open reloads it — once this
      // channel's appends have landed, or that load could miss them.
      this.channels.delete(docId);
      const committer = channel.committer;
      const retired = channel.retire().then(() => {
        if (this.retiring.get(docId) === retired) this.retiring.delete(docId);
        if (!this.channels.has(docId)) committer?.forget(docId);
      });
      this.retiring.set(docId, retired);
    }
  }

  async submit(subscriber: Subscriber, submission: Submission): Promise<SubmitOutcome> {
    for (let attempt = 1; ; attempt++) {
      const channel = await this.current(submission.docId);
      if (!channel.subscribers.has(subscriber.id)) {
        throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${submission.docId} before submitting ops to it.`, {
          docId: submission.docId,
        });
      }
      if (channel.committer === undefined && this.forwarder !== undefined) {
        return this.forwarder.forward(submission, subscriber);
      }
      try {
        return await channel.submit(submission, subscriber);
      } catch (err) {
        // The op was not appended (it waited while the channel was reloaded or ownership moved, or its append was
        // fenced and so aborted): try the current channel, or the current owner, instead of bouncing it back.
        if (!(err instanceof ProtocolError && err.code === 'ERR_NOT_OWNER') || attempt >= 3) throw err;
      }
    }
  }

  /**
   * A comment command (docs/comments.md): decided and appended by the document's sequencer — here when this
   * instance owns the document, else forwarded to its owner like a submission (the answer comes back through the
   * relay of the log or a reply: Forwarder.forwardComment).
   */
  async comment(subscriber: Subscriber, request: CommentRequest): Promise<CommentOutcome> {
    for (let attempt = 1; ; attempt++) {
      const channel = await this.current(request.docId);
      if (!channel.subscribers.has(subscriber.id)) {
        throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${request.docId} before commenting on it.`, {
          docId: request.docId,
          ref: request.ref,
        });
      }
      if (
        channel.committer === undefined &&
        this.forwarder !== undefined &&
        this.settings.commentLimits !== undefined
      ) {
        return this.forwarder.forwardComment(request, subscriber);
      }
      try {
        return await channel.comment(request, subscriber);
      } catch (err) {
        // As for ops: a reload or an ownership move in between; the current channel may sequence it.
        if (!(err instanceof ProtocolError && err.code === 'ERR_NOT_OWNER') || attempt >= 3) throw err;
      }
    }
  }

  /**
   * The owner's side of forwarding: sequence a command from the bus like a local submission or comment command.
   * Rejects with ERR_NOT_OWNER when this instance does not (or no longer does) own the document's partition, and
   * ERR_UNAVAILABLE when the append failed: in both cases the command is not decided and must not be checkpointed.
   * A forwarded comment resolves with the owner's durable version once answered (for a duplicate's reply).
   */
  async sequenceForwarded(command: ForwardedCommand): Promise<SubmitOutcome> {
    const docId = forwardedDocId(command);
    const notOwner = () =>
      new ProtocolError('ERR_NOT_OWNER', `This instance does not own document ${docId}.`, { docId });
    if (!this.owns(this.log.partitionFor(docId))) throw notOwner();
    const channel = await this.current(docId);
    if (channel.committer === undefined) throw notOwner();
    // The origin's session is elsewhere; its ack goes back through the relay (commit) or a reply.
    const origin: Subscriber = { id: `forwarded:${command.origin}`, deliver: () => {} };
    if (isForwardedComment(command)) {
      const outcome = await channel.comment(command.comment, origin);
      return { version: channel.current.version, duplicate: outcome.duplicate };
    }
    return channel.submit(command.submission, origin);
  }

  /** A reply to one of our forwards (or, when we own the document ourselves, its outcome decided here). */
  async settleReply(reply: CommandReply): Promise<void> {
    const channel = await settledChannel(this.channels.get(reply.docId));
    this.forwarder?.settleReply(reply, () => channel?.current.version);
  }

  /** A record committed by another instance (fed by a log consumer). */
  async applyCommitted(record: LogValue): Promise<void> {
    const pending = this.channels.get(record.docId);
    if (pending === undefined) return;
    // A channel whose load failed holds nothing to bring up to date; the next load reads the record from the log.
    const channel = await settledChannel(pending);
    if (channel === undefined) return;
    // Only where it is news (a replica of another instance's document): commit → here, by the two clocks.
    if (channel.committer === undefined)
      instruments.remoteOpLag.record(Math.max(0, Date.now() - record.timestamp) / 1000);
    channel.applyRemote(record);
  }

  /**
   * The document as this instance holds it right now (version, text, recent ops), if it is loaded: presence
   * moves cursors through `recent`. Read-only; undefined while nobody here has the document open.
   */
  async peek(docId: string): Promise<DocumentState | undefined> {
    return (await settledChannel(this.channels.get(docId)))?.current;
  }

  async closeAll(): Promise<void> {
    await this.releaseOwnership([...this.committers.keys()]);
    this.forwarder?.abortAll();
    this.channels.clear();
  }

  private upToDate(
    state: DocumentState,
    fromVersion: number | undefined,
    older: readonly OpCommitted[] = [],
  ): ServerMessage[] {
    // The threads at the version the snapshot or catch-up brings the client to, right after it.
    return [
      ...catchupMessages(state, fromVersion, this.settings, older),
      ...commentsFrames(state.docId, state.comments, this.settings.maxFrameBytes),
    ];
  }

  /** Committed ops older than the window, for a catch-up; undefined (the client resyncs) when they cannot be read. */
  private async fetchOlder(docId: string, from: number, to: number): Promise<OpCommitted[] | undefined> {
    try {
      return await this.olderOps(docId, from, to);
    } catch (err) {
      this.logger.warn({ err, docId, from, to }, 'catch-up: older ops unreadable; the client gets the whole text');
      return undefined;
    }
  }

  /**
   * The channel of the document as it is once the caller resumes: a reload may have replaced the one it awaited,
   * and a subscriber added to (or an op sequenced on) a replaced channel would be stranded there.
   */
  private async current(docId: string): Promise<DocumentChannel> {
    for (;;) {
      const pending = this.channel(docId);
      const channel = await pending;
      if (this.channels.get(docId) === pending) return channel;
    }
  }

  private channel(docId: string): Promise<DocumentChannel> {
    let pending = this.channels.get(docId);
    if (pending === undefined) {
      pending = this.create(docId, undefined);
      this.channels.set(docId, pending);
      pending.catch(() => this.channels.delete(docId));
    }
    return pending;
  }

  /**
   * Where an open of `docId` waits, for a warning when it takes long: the stage of its channel's creation, or
   * that the channel is there (the open then waits for older ops or its session's earlier frames).
   */
  describeOpen(docId: string): string {
    const stage = this.creating.get(docId);
    if (stage !== undefined) return stage;
    return this.channels.has(docId) ? 'channel loaded or being replaced' : 'no channel';
  }

  private async create(docId: string, previous: DocumentChannel | undefined): Promise<DocumentChannel> {
    const partition = this.log.partitionFor(docId);
    try {
      this.creating.set(docId, "waiting for the previous channel's appends to settle");
      await this.retiring.get(docId);
      const before = this.committers.get(partition);
      // After a failed append of unknown outcome, load only once a new writer has fenced the doubtful one: the
      // broker has then committed or aborted its transaction, and the log tells which.
      this.creating.set(docId, "waiting for the partition's writer to be reopened");
      await before?.ready();
      this.creating.set(docId, 'loading the document');
      const loadStarted = performance.now();
      const state = await this.load(docId);
      instruments.documentLoad.record(secondsSince(loadStarted));
      this.creating.set(docId, 'fetching ops older than the window for its subscribers');
      return await this.createLoaded(docId, partition, before, state, previous);
    } finally {
      this.creating.delete(docId);
    }
  }

  private async createLoaded(
    docId: string,
    partition: number,
    before: PartitionCommitter | undefined,
    state: DocumentState,
    previous: DocumentChannel | undefined,
  ): Promise<DocumentChannel> {
    // Sequence only on a state loaded after our writer fenced the previous owner: if ownership arrived while we
    // were loading, the load may have missed the previous owner's last ops (takeOwnership reloads this channel).
    // And never on a writer a newer owner has fenced: until the partition is assigned here again, this is a replica.
    const committer = this.committers.get(partition) === before && before?.fenced === false ? before : undefined;
    const channel: DocumentChannel = new DocumentChannel(
      state,
      this.settings,
      committer,
      (reason) => void this.reload(docId, reason),
      (record) => this.forwarder?.claim(record) ?? [],
      (event) => this.forwarder?.claimComment(event) ?? [],
    );
    if (previous !== undefined) {
      // Forwards answered by what the reload brought in: their senders see those ops in the catch-up below
      // (a client recognises its own (clientId, seq) there as the ack, as after any reconnect).
      for (const record of state.recent) if (record.version > previous.current.version) this.forwarder?.claim(record);
      // Move the subscribers over and send them whatever they missed (nothing commits on this channel before we
      // return it, so ops older than the window are read once, here).
      const from = previous.current.version;
      const missing =
        previous.subscribers.size === 0 ? undefined : missingBeforeWindow(state, from, this.settings.catchupLimit);
      const older = missing === undefined ? [] : ((await this.fetchOlder(docId, missing.from, missing.to)) ?? []);
      for (const sub of previous.subscribers.values()) {
        channel.subscribers.set(sub.id, sub);
        for (const message of this.upToDate(state, from, older)) sub.deliver(message);
      }
    }
    return channel;
  }

  private async reload(docId: string, reason: string): Promise<void> {
    const current = this.channels.get(docId);
    if (current === undefined) return;
    this.logger.warn({ docId, reason }, 'reloading document from the log');
    // Replace the entry at once (callers from now on wait for the new channel), but load only once the old one
    // has stopped sequencing and its last append has landed: the load must see it.
    const next = (async () => {
      const previous = await settledChannel(current);
      await previous?.retire();
      // The log (or the writer's reopen) may be unreachable for a while: keep trying with backoff while anyone
      // is subscribed, so they stay subscribed and their ops wait for the reload instead of being dropped.
      const giveUpAt = Date.now() + RELOAD_PATIENCE_MS;
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.create(docId, previous);
        } catch (err) {
          if ((previous?.subscribers.size ?? 0) === 0 || Date.now() > giveUpAt) throw err;
          const delayMs = Math.min(100 * 2 ** attempt, 5_000);
          this.logger.warn({ err, docId, attempt, delayMs }, 'reloading document failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
    this.channels.set(docId, next);
    await next.catch((err: unknown) => {
      this.logger.error({ err, docId }, 'reloading document failed');
      if (this.channels.get(docId) === next) this.channels.delete(docId);
    });
  }
}

/**
 * The channel once loaded, or undefined if its load failed. For everyone but the opener, who is told why: a
 * failed load must not reject a close, a relayed record or a revocation (a session's close on disconnect is not
 * awaited by anyone, and its rejection crashed the process: the chaos run, seed 7).
 */
function settledChannel(pending: Promise<DocumentChannel> | undefined): Promise<DocumentChannel | undefined> {
  return pending === undefined ? Promise.resolve(undefined) : pending.catch(() => undefined);
}
