/**
 * One document on this instance: its replica state (text, version, recent ops), the sessions subscribed to it,
 * and — when this instance owns the document's partition — its sequencer.
 *
 * Submissions are decided strictly one batch at a time: while a batch is being appended, newly arrived ops wait;
 * when it lands they are all decided against the new head and appended together (group commit). A submission is
 * acknowledged only after its record is durable in the log.
 */
import type { DocumentState, OpCommitted, Submission, SubmitLimits } from '@collab/core';
import { decideSubmit, evolve, isCollabError } from '@collab/core';
import { ProtocolError } from '../protocol/errors.js';
import type { ServerMessage, WireOp } from '../protocol/messages.js';
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

/** A submission accepted into the batch being appended, with resubmissions of the same op in that batch. */
interface Accepted {
  item: PendingSubmit;
  record: OpCommitted;
  duplicates: PendingSubmit[];
}

export const toWireOp = (r: OpCommitted): WireOp => ({
  version: r.version,
  op: r.op,
  clientId: r.clientId,
  seq: r.seq,
  userId: r.userId,
  timestamp: r.timestamp,
});

export class DocumentChannel {
  readonly subscribers = new Map<string, Subscriber>();
  private pending: PendingSubmit[] = [];
  private sequencing = false;
  /** The running sequence loop (resolved when idle): retire() waits for its append to land or fail. */
  private sequenceRun: Promise<void> = Promise.resolve();

  constructor(
    private state: DocumentState,
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
  ) {}

  get docId(): string {
    return this.state.docId;
  }

  get current(): DocumentState {
    return this.state;
  }

  submit(submission: Submission, from: Subscriber): Promise<SubmitOutcome> {
    if (this.committer === undefined) {
      return Promise.reject(
        new ProtocolError('ERR_NOT_OWNER', 'This server does not sequence this document right now; retry shortly.', {
          retryAfterMs: 250,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ submission, from, resolve, reject });
      if (!this.sequencing) this.sequenceRun = this.sequence();
    });
  }

  /** A record committed elsewhere (another instance, or our own seen again through the log). */
  applyRemote(record: OpCommitted): void {
    // While we own the document we are its only writer (earlier owners are fenced, and we reloaded after taking
    // over): whatever the log shows us of it is our own, already applied or about to be.
    if (this.committer !== undefined) return;
    if (record.version <= this.state.version) return; // already have it
    if (record.version !== this.state.version + 1) {
      this.invalidate(`gap: at version ${this.state.version}, received ${record.version}`);
      return;
    }
    this.commitLocally([record], undefined);
  }

  private async sequence(): Promise<void> {
    this.sequencing = true;
    while (this.pending.length > 0 && this.committer !== undefined) {
      const batch = this.pending;
      this.pending = [];
      let working = this.state;
      const accepted: Accepted[] = [];
      for (const item of batch) {
        const decision = decideSubmit(working, item.submission, this.settings.now(), this.settings.limits);
        if (decision.kind === 'reject') {
          item.reject(
            new ProtocolError(decision.code, decision.message, {
              docId: item.submission.docId,
              seq: item.submission.seq,
              ...(decision.detail === undefined ? {} : { detail: decision.detail }),
            }),
          );
        } else if (decision.kind === 'duplicate') {
          // Already committed (a resubmission after reconnect): the original ack again, never a second copy.
          // If "committed" means "accepted earlier in this very batch" (a forwarded copy and a direct resend of
          // the same op), it is not durable yet: ack it with that record, once the append has landed.
          const inBatch = accepted.find((a) => a.record.version === decision.version);
          if (inBatch !== undefined) {
            inBatch.duplicates.push(item);
          } else {
            item.from.deliver({ t: 'ack', docId: this.docId, seq: item.submission.seq, version: decision.version });
            item.resolve({ version: decision.version, duplicate: true });
          }
        } else {
          working = evolve(working, decision.record, this.settings.window);
          accepted.push({ item, record: decision.record, duplicates: [] });
        }
      }
      if (accepted.length === 0) continue;
      const committer = this.committer;
      try {
        const started = performance.now();
        await inSpan('collab.append', { 'collab.doc_id': this.docId, 'collab.batch': accepted.length }, async () => {
          // The trace context rides in the record headers, so consumers (projection, relay) continue the trace.
          const headers = { ...traceHeaders(), ...(this.settings.headers?.() ?? {}) };
          await committer.append(accepted.map(({ record }) => ({ value: record, headers })));
        });
        instruments.appendLatency.record(performance.now() - started);
        instruments.appendBatch.record(accepted.length);
        instruments.opsCommitted.add(accepted.length);
      } catch (err) {
        const fenced = isCollabError(err, 'ERR_FENCED');
        const failure = fenced
          ? new ProtocolError('ERR_NOT_OWNER', 'Another server took over this document; retry shortly.', {
              retryAfterMs: 250,
            })
          : new ProtocolError('ERR_UNAVAILABLE', 'The op log is unavailable; retry shortly.', { retryAfterMs: 500 });
        for (const { item, duplicates } of accepted) for (const i of [item, ...duplicates]) i.reject(failure);
        for (const item of this.pending) item.reject(failure);
        this.pending = [];
        // Unknown outcome (or lost ownership): the log decides what is true; reload before trusting this replica.
        this.invalidate(fenced ? 'fenced by a newer owner' : `append failed: ${(err as Error).message}`);
        break;
      }
      this.commitLocally(
        accepted.map(({ record }) => record),
        accepted,
      );
    }
    this.sequencing = false;
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
   * This channel is being replaced by a fresh load from the log: stop sequencing (waiting submissions get
   * ERR_NOT_OWNER and are retried on the replacement) and resolve once the append in flight, if any, has landed
   * or failed — so the replacement's load sees it. Two channels of one document must never both append.
   */
  retire(): Promise<void> {
    this.committer = undefined;
    this.abort(
      new ProtocolError('ERR_NOT_OWNER', 'The document is being reloaded; retry shortly.', { retryAfterMs: 100 }),
    );
    return this.sequenceRun;
  }

  /** Reject everything waiting (the channel is being dropped). */
  abort(error: ProtocolError): void {
    for (const item of this.pending) item.reject(error);
    this.pending = [];
  }
}
