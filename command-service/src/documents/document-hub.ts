/**
 * All documents open on this instance. Sessions talk to the hub by document id; the hub loads replicas on first
 * use, keeps them while anyone is subscribed, and hands each one the committer of its partition while this
 * instance owns that partition (and so may sequence it).
 *
 * Ownership comes from outside (the op log's consumer group, or "everything" in the embedded mode): taking a
 * partition opens its writer first — which fences any previous owner — and only then reloads the partition's
 * open documents from the log, so no op committed by the previous owner is missed.
 */
import type { DocumentState, OpCommitted, OpLog, Submission } from '@collab/core';
import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { ChannelSettings, Subscriber } from './document-channel.js';
import { DocumentChannel, toWireOp } from './document-channel.js';
import { loadFromLog } from './document-loader.js';
import { PartitionCommitter } from './partition-committer.js';

export interface HubSettings extends ChannelSettings {
  /** A client further behind than this many versions gets the whole text instead of the missing ops. */
  catchupLimit: number;
}

export class DocumentHub {
  private readonly channels = new Map<string, Promise<DocumentChannel>>();
  private readonly committers = new Map<number, PartitionCommitter>();

  constructor(
    private readonly log: OpLog,
    private readonly settings: HubSettings,
    private readonly logger: Logger,
    private readonly load: (docId: string) => Promise<DocumentState> = (docId) =>
      loadFromLog(log, docId, Math.max(settings.window, settings.catchupLimit)),
  ) {}

  get ownedPartitions(): number[] {
    return [...this.committers.keys()].sort((a, b) => a - b);
  }

  async takeOwnership(partitions: readonly number[]): Promise<void> {
    await Promise.all(
      partitions
        .filter((p) => !this.committers.has(p))
        .map(async (partition) => {
          const writer = await this.log.openWriter(partition); // fences the previous owner
          this.committers.set(partition, new PartitionCommitter(writer));
          this.logger.info({ partition }, 'took ownership of partition');
        }),
    );
    // Replicas of these partitions may lag what the previous owner committed: reload them from the log.
    const affected = [...this.channels.keys()].filter((docId) => partitions.includes(this.log.partitionFor(docId)));
    await Promise.all(affected.map((docId) => this.reload(docId, 'partition ownership changed')));
  }

  async releaseOwnership(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) {
      const committer = this.committers.get(partition);
      if (committer === undefined) continue;
      this.committers.delete(partition);
      for (const [docId, channel] of this.channels) {
        if (this.log.partitionFor(docId) === partition) {
          const c = await channel;
          c.committer = undefined;
          c.abort(
            new ProtocolError('ERR_NOT_OWNER', 'Ownership of this document moved; retry shortly.', {
              retryAfterMs: 250,
            }),
          );
        }
      }
      await committer.writer
        .close()
        .catch((err: unknown) => this.logger.warn({ err, partition }, 'closing writer failed'));
      this.logger.info({ partition }, 'released partition');
    }
  }

  /** Subscribe to a document; returns the message that brings the subscriber up to date. */
  async open(subscriber: Subscriber, docId: string, fromVersion?: number): Promise<ServerMessage[]> {
    const channel = await this.channel(docId);
    channel.subscribers.set(subscriber.id, subscriber);
    return this.upToDate(channel.current, fromVersion);
  }

  async close(subscriber: Subscriber, docId: string): Promise<void> {
    const pending = this.channels.get(docId);
    if (pending === undefined) return;
    const channel = await pending;
    channel.subscribers.delete(subscriber.id);
    if (channel.subscribers.size === 0 && this.channels.get(docId) === pending) {
      // Nobody is looking: free the memory. The log has everything; the next open reloads it.
      this.channels.delete(docId);
    }
  }

  async submit(subscriber: Subscriber, submission: Submission): Promise<number> {
    const channel = await this.channel(submission.docId);
    if (!channel.subscribers.has(subscriber.id)) {
      throw new ProtocolError('ERR_DOC_NOT_OPEN', `Open document ${submission.docId} before submitting ops to it.`, {
        docId: submission.docId,
      });
    }
    return channel.submit(submission, subscriber);
  }

  /** A record committed by another instance (fed by a log consumer). */
  async applyCommitted(record: OpCommitted): Promise<void> {
    const pending = this.channels.get(record.docId);
    if (pending !== undefined) (await pending).applyRemote(record);
  }

  async closeAll(): Promise<void> {
    await this.releaseOwnership(this.ownedPartitions);
    this.channels.clear();
  }

  private upToDate(state: DocumentState, fromVersion: number | undefined): ServerMessage[] {
    const snapshot: ServerMessage = {
      t: 'snapshot',
      docId: state.docId,
      version: state.version,
      text: state.doc.toString(),
    };
    if (fromVersion === undefined) return [snapshot];
    if (fromVersion > state.version) {
      return [
        {
          t: 'resync',
          docId: state.docId,
          reason: `version ${fromVersion} is ahead of the document (${state.version})`,
        },
        snapshot,
      ];
    }
    const behind = state.version - fromVersion;
    const missing = behind <= this.settings.catchupLimit ? state.recent.slice(state.recent.length - behind) : undefined;
    if (missing === undefined || missing.length !== behind) {
      return [
        { t: 'resync', docId: state.docId, reason: `${behind} versions behind, more than the catch-up limit` },
        snapshot,
      ];
    }
    return [{ t: 'catchup', docId: state.docId, version: state.version, ops: missing.map(toWireOp) }];
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

  private async create(docId: string, previous: DocumentChannel | undefined): Promise<DocumentChannel> {
    const state = await this.load(docId);
    const channel: DocumentChannel = new DocumentChannel(
      state,
      this.settings,
      this.committers.get(this.log.partitionFor(docId)),
      (reason) => void this.reload(docId, reason),
    );
    if (previous !== undefined) {
      // Move the subscribers over and send them whatever they missed.
      for (const sub of previous.subscribers.values()) {
        channel.subscribers.set(sub.id, sub);
        for (const message of this.upToDate(state, previous.current.version)) sub.deliver(message);
      }
    }
    return channel;
  }

  private async reload(docId: string, reason: string): Promise<void> {
    const current = this.channels.get(docId);
    if (current === undefined) return;
    this.logger.warn({ docId, reason }, 'reloading document from the log');
    const previous = await current.catch(() => undefined);
    const next = this.create(docId, previous);
    this.channels.set(docId, next);
    await next.catch((err: unknown) => {
      this.logger.error({ err, docId }, 'reloading document failed');
      this.channels.delete(docId);
    });
  }
}
