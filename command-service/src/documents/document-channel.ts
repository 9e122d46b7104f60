/**
 * One document on this instance: its replica state (text, version, recent ops), the sessions subscribed to it,
 * and — when this instance owns the document's partition — its sequencer.
 *
 * Submissions are decided as they arrive, against the head (durable ops plus those being appended), and go to the
 * partition's group commit at once: an op never waits for the previous op of its document to land before it is
 * sequenced, only for the transaction that carries it. A submission is acknowledged only after its record is
 * durable in the log, and acks and ops go out in version order.
 *
 * Comment commands take the same road (docs/comments.md): decided against the head (its threads, anchors at the
 * head's version), appended to the same partition behind the ops they were decided after, folded and sent to
 * every subscriber in log order once durable, and only then acknowledged.
 */
import type {
  CommentCommand,
  CommentEvent,
  CommentLimits,
  DocumentState,
  LogValue,
  OpCommitted,
  Submission,
  SubmitLimits,
} from '@collab/core';
import {
  decideComment,
  decideSubmit,
  evolve,
  evolveComment,
  isCollabError,
  isCommentEvent,
  opsSince,
} from '@collab/core';
import { commentEventMessage } from './comment-frames.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ServerMessage } from '@collab/protocol';
import { toWireOp } from '@collab/protocol';
import type { PartitionCommitter } from './partition-committer.js';
import { inSpan, instruments, traceHeaders } from '../telemetry.js';
import { stateHash } from './state-hash.js';

export interface Subscriber {
  readonly id: string;
  deliver(message: ServerMessage): void;
}

export interface ChannelSettings {
  /** Ops kept in memory for transforms and catch-up. */
  window: number;
  /** Send a state hash every this many versions (0: never). */
  hashEvery: number;
  limits: SubmitLimits;
  /**
   * Comment threads are on, with these limits (threads per document, messages per thread, message length).
   * Absent: comment commands are refused (ERR_COMMENTS_DISABLED) before anything is decided or appended.
   */
  commentLimits?: CommentLimits;
  now: () => number;
  /** Header values to attach to an appended record (trace context). */
  headers?: () => Record<string, string>;
}

/** How a submission ended: committed at `version`, or recognised as already committed there (`duplicate`). */
export interface SubmitOutcome {
  version: number;
  duplicate: boolean;
}

interface PendingSubmit {
  submission: Submission;
  from: Subscriber;
  resolve: (outcome: SubmitOutcome) => void;
  reject: (err: unknown) => void;
}

/** A submission sequenced here and being appended, with resubmissions of the same op that arrived meanwhile. */
interface Accepted {
  item: PendingSubmit;
  record: OpCommitted;
  duplicates: PendingSubmit[];
  /** Its append landed (it is folded once every earlier version has landed too). */
  durable?: boolean;
}

/** A comment command from a client: the user comes from its token. */
export interface CommentRequest {
  docId: string;
  ref: string;
  userId: string;
  command: CommentCommand;
}

/** How a comment command ended: its event is durable, or it was already (`duplicate`: nothing appended). */
export interface CommentOutcome {
  duplicate: boolean;
}

/**
 * What was sequenced here and is not folded yet, in append order (= log order): ops, comment events, and the
 * answers to repeated commands that must wait for what is in flight before them. `settle` folds and tells
 * everyone; it runs once this entry and every one before it are durable.
 */
interface Queued {
  durable: boolean;
  settle(): void;
  fail(err: unknown): void;
}

export class DocumentChannel {
  readonly subscribers = new Map<string, Subscriber>();
  /** The durable state: every op in it is in the log. What subscribers are shown. */
  private state: DocumentState;
  /** The durable state plus the ops sequenced here whose appends are in flight: what new ops are decided on. */
  private head: DocumentState;
  /** Sequenced here, not durable yet, by version. */
  private readonly inflight = new Map<number, Accepted>();
  /** Everything sequenced here and not folded yet, in log order (ops are in `inflight` too). */
  private readonly queue: Queued[] = [];
  /** The appends not settled yet: retire() waits for them. */
  private readonly appends = new Set<Promise<unknown>>();
  /** An append failed: nothing more is sequenced here (the hub reloads the document into a new channel). */
  private broken = false;

  constructor(
    state: DocumentState,
    private readonly settings: ChannelSettings,
    /** Set while this instance owns the document's partition. */
    public committer: PartitionCommitter | undefined,
    /** Called when the replica can no longer be trusted (a failed append of unknown outcome, a gap). */
    private readonly invalidate: (reason: string) => void,
    /**
     * The subscribers waiting for this record's ack elsewhere than in this channel's queue: submissions this
     * instance forwarded to the owner (see Forwarder.claim). They get the ack instead of the op.
     */
    private readonly claim: (record: OpCommitted) => Subscriber[] = () => [],
    /**
     * The comment commands this instance forwarded to the owner that this event answers (Forwarder.claimComment):
     * acked after the event has gone to every subscriber.
     */
    private readonly claimComment: (
      event: CommentEvent,
    ) => { from: Subscriber; ref: string; resolve: () => void }[] = () => [],
  ) {
    this.state = state;
    this.head = state;
    committer?.resume(state.docId, state.version);
  }

  get docId(): string {
    return this.state.docId;
  }

  get current(): DocumentState {
    return this.state;
  }

  /**
   * Decide the op at once against the head (durable ops and those in flight) and hand it to the partition's
   * group commit without waiting for earlier appends of this document to land: the committer keeps a document's
   * records in order and refuses any that would follow a failed one. The ack goes out once the op is durable.
   */
  submit(submission: Submission, from: Subscriber): Promise<SubmitOutcome> {
    const committer = this.committer;
    if (committer === undefined || this.broken) {
      return Promise.reject(
        new ProtocolError('ERR_NOT_OWNER', 'This server does not sequence this document right now; retry shortly.', {
          retryAfterMs: 250,
        }),
      );
    }
    const decision = decideSubmit(this.head, submission, this.settings.now(), this.settings.limits);
    if (decision.kind === 'reject') {
      return Promise.reject(
        new ProtocolError(decision.code, decision.message, {
          docId: submission.docId,
          seq: submission.seq,
          ...(decision.detail === undefined ? {} : { detail: decision.detail }),
        }),
      );
    }
    return new Promise<SubmitOutcome>((resolve, reject) => {
      const item: PendingSubmit = { submission, from, resolve, reject };
      if (decision.kind === 'duplicate') {
        // Already sequenced (a resubmission after reconnect): the original ack again, never a second copy. If
        // that op is still in flight, the ack waits for it to be durable.
        const original = this.inflight.get(decision.version);
        if (original !== undefined) {
          original.duplicates.push(item);
        } else {
          from.deliver({ t: 'ack', docId: this.docId, seq: submission.seq, version: decision.version });
          resolve({ version: decision.version, duplicate: true });
        }
        return;
      }
      this.head = evolve(this.head, decision.record, this.settings.window);
      const accepted: Accepted = { item, record: decision.record, duplicates: [] };
      this.inflight.set(decision.record.version, accepted);
      const queued: Queued = {
        durable: false,
        settle: () => {
          this.inflight.delete(accepted.record.version);
          instruments.opsCommitted.add(1);
          if (accepted.record.version <= this.state.version) {
            // Ownership was released while it was in flight, and the relay brought it from the log first (to every
            // subscriber: its sender recognises its own op as the ack). Only the promises are left to settle.
            accepted.item.resolve({ version: accepted.record.version, duplicate: false });
            for (const d of accepted.duplicates) d.resolve({ version: accepted.record.version, duplicate: true });
            return;
          }
          this.commitLocally([accepted.record], [accepted]);
        },
        fail: (err) => {
          for (const i of [accepted.item, ...accepted.duplicates]) i.reject(err);
        },
      };
      this.append(committer, decision.record, queued);
    });
  }

  /**
   * Decide a comment command against the head and append its event behind whatever was sequenced before it. The
   * sender's `comment-ack` goes out once the event is durable and has been sent to every subscriber.
   */
  comment(request: CommentRequest, from: Subscriber): Promise<CommentOutcome> {
    const committer = this.committer;
    const { ref } = request;
    const limits = this.settings.commentLimits;
    if (limits === undefined) {
      return Promise.reject(
        new ProtocolError('ERR_COMMENTS_DISABLED', 'This server does not keep comment threads.', {
          docId: this.docId,
          ref,
        }),
      );
    }
    if (committer === undefined || this.broken) {
      return Promise.reject(
        new ProtocolError('ERR_NOT_OWNER', 'This server does not sequence this document right now; retry shortly.', {
          retryAfterMs: 250,
          docId: this.docId,
          ref,
        }),
      );
    }
    const head = this.head;
    const decision = decideComment(head.comments, request.command, {
      docId: this.docId,
      userId: request.userId,
      now: this.settings.now(),
      version: head.version,
      length: head.doc.length,
      opsSince: (version) => opsSince(head, version)?.map((r) => r.op),
      limits,
    });
    if (decision.kind === 'reject') {
      return Promise.reject(new ProtocolError(decision.code, decision.message, { docId: this.docId, ref }));
    }
    return new Promise<CommentOutcome>((resolve, reject) => {
      const ack = (duplicate: boolean) => {
        from.deliver({ t: 'comment-ack', docId: this.docId, ref, duplicate });
        resolve({ duplicate });
      };
      if (decision.kind === 'duplicate') {
        // Already so: answered now, or — when what made it so may still be in flight — after everything before it.
        if (this.queue.length === 0) ack(true);
        else this.queue.push({ durable: true, settle: () => ack(true), fail: reject });
        return;
      }
      const { event } = decision;
      this.head = evolveComment(this.head, event);
      const queued: Queued = {
        durable: false,
        settle: () => {
          this.state = evolveComment(this.state, event);
          const message = commentEventMessage(event);
          for (const sub of this.subscribers.values()) sub.deliver(message);
          ack(false);
          this.ackForwardedComments(event);
        },
        fail: reject,
      };
      this.append(committer, event, queued);
    });
  }

  private append(committer: PartitionCommitter, value: LogValue, queued: Queued): void {
    this.queue.push(queued);
    const appended = inSpan('collab.append', { 'collab.doc_id': this.docId, 'collab.version': value.version }, () => {
      // The trace context rides in the record headers, so consumers (projection, relay) continue the trace.
      const headers = { ...traceHeaders(), ...(this.settings.headers?.() ?? {}) };
      return committer.append([{ value, headers }]);
    });
    const settled = appended.then(
      () => this.landed(queued),
      (err: unknown) => this.failed(err),
    );
    this.appends.add(settled);
    void settled.finally(() => this.appends.delete(settled));
  }

  /** An append landed: fold every durable record in log order (appends can settle out of order). */
  private landed(queued: Queued): void {
    if (!this.queue.includes(queued)) return; // already failed
    queued.durable = true;
    while (this.queue[0]?.durable === true) this.queue.shift()!.settle();
  }

  private failed(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    const fenced = isCollabError(err, 'ERR_FENCED') || isCollabError(err, 'ERR_CLOSED');
    const failure = fenced
      ? new ProtocolError('ERR_NOT_OWNER', 'Another server took over this document; retry shortly.', {
          retryAfterMs: 250,
        })
      : new ProtocolError('ERR_UNAVAILABLE', 'The op log is unavailable; retry shortly.', { retryAfterMs: 500 });
    // Everything sequenced after the failed op was decided on top of it: none of it can land (the committer
    // refuses it), so all of it fails now.
    for (const queued of this.queue.splice(0)) queued.fail(failure);
    this.inflight.clear();
    this.head = this.state;
    // Unknown outcome (or lost ownership): the log decides what is true; reload before trusting this replica.
    this.invalidate(fenced ? 'fenced by a newer owner' : `append failed: ${(err as Error).message}`);
  }

  /** A record committed elsewhere (another instance, or our own seen again through the log). */
  applyRemote(record: LogValue): void {
    // While we own the document we are its only writer (earlier owners are fenced, and we reloaded after taking
    // over): whatever the log shows us of it is our own, already applied or about to be.
    if (this.committer !== undefined) return;
    if (isCommentEvent(record)) return this.applyRemoteComment(record);
    if (record.version <= this.state.version) return; // already have it
    if (record.version !== this.state.version + 1) {
      this.invalidate(`gap: at version ${this.state.version}, received ${record.version}`);
      return;
    }
    this.commitLocally([record], undefined);
    this.head = this.state;
  }

  private applyRemoteComment(event: CommentEvent): void {
    // An event of a version we are past was folded before (a redelivery); one ahead means we missed ops.
    if (event.version < this.state.version) return;
    if (event.version > this.state.version) {
      this.invalidate(`gap: at version ${this.state.version}, received a comment event at ${event.version}`);
      return;
    }
    // At our version it may still be a redelivery: folding it again changes nothing (evolveComments is idempotent).
    this.state = evolveComment(this.state, event);
    this.head = this.state;
    const message = commentEventMessage(event);
    for (const sub of this.subscribers.values()) sub.deliver(message);
    this.ackForwardedComments(event);
  }

  /** The senders of forwarded commands this event answers: their `comment-ack`, after the event itself. */
  private ackForwardedComments(event: CommentEvent): void {
    for (const claimed of this.claimComment(event)) {
      claimed.from.deliver({ t: 'comment-ack', docId: this.docId, ref: claimed.ref, duplicate: false });
      claimed.resolve();
    }
  }

  /**
   * Fold durable records into the replica and tell everyone, in this order per record: the op to the other
   * subscribers, the ack to its sender, then (every N versions) the state hash — so a client has its ack before
   * it is asked to compare hashes at that version.
   */
  private commitLocally(records: readonly OpCommitted[], acks: readonly Accepted[] | undefined): void {
    for (const record of records) {
      this.state = evolve(this.state, record, this.settings.window);
      const entry = acks?.find((a) => a.record === record);
      const sender = entry?.item;
      const duplicates = entry?.duplicates ?? [];
      const forwardedFrom = this.claim(record);
      const acked = new Set<string>([...forwardedFrom, ...duplicates.map((d) => d.from)].map((s) => s.id));
      if (sender !== undefined) acked.add(sender.from.id);
      const message: ServerMessage = { t: 'op', docId: record.docId, ...toWireOp(record) };
      for (const sub of this.subscribers.values()) if (!acked.has(sub.id)) sub.deliver(message);
      const ack: ServerMessage = { t: 'ack', docId: record.docId, seq: record.seq, version: record.version };
      if (sender !== undefined) {
        sender.from.deliver(ack);
        sender.resolve({ version: record.version, duplicate: false });
      }
      for (const d of duplicates) {
        d.from.deliver(ack);
        d.resolve({ version: record.version, duplicate: true });
      }
      for (const sub of forwardedFrom) sub.deliver(ack);
      if (this.settings.hashEvery > 0 && record.version % this.settings.hashEvery === 0) {
        const hash: ServerMessage = {
          t: 'hash',
          docId: record.docId,
          version: record.version,
          hash: stateHash(this.state.doc),
        };
        for (const sub of this.subscribers.values()) sub.deliver(hash);
      }
    }
  }

  /**
   * This channel is being replaced by a fresh load from the log (or dropped): stop sequencing and resolve once
   * every append in flight has landed or failed — so the replacement's load sees them. Two channels of one
   * document must never both append.
   */
  async retire(): Promise<void> {
    this.committer = undefined;
    this.broken = true;
    await Promise.allSettled([...this.appends]);
  }
}
