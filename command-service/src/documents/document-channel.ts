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

interface PendingSubmit {
  submission: Submission;
  from: Subscriber;
  resolve: (version: number) => void;
  reject: (err: unknown) => void;
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

  constructor(
    private state: DocumentState,
    private readonly settings: ChannelSettings,
    /** Set while this instance owns the document's partition. */
    public committer: PartitionCommitter | undefined,
    /** Called when the replica can no longer be trusted (a failed append of unknown outcome, a gap). */
    private readonly invalidate: (reason: string) => void,
  ) {}

  get docId(): string {
    return this.state.docId;
  }

  get current(): DocumentState {
    return this.state;
  }

  submit(submission: Submission, from: Subscriber): Promise<number> {
    if (this.committer === undefined) {
      return Promise.reject(
        new ProtocolError('ERR_NOT_OWNER', 'This server does not sequence this document right now; retry shortly.', {
          retryAfterMs: 250,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ submission, from, resolve, reject });
      if (!this.sequencing) void this.sequence();
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
      const accepted: Array<{ item: PendingSubmit; record: OpCommitted }> = [];
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
          item.from.deliver({ t: 'ack', docId: this.docId, seq: item.submission.seq, version: decision.version });
          item.resolve(decision.version);
        } else {
          working = evolve(working, decision.record, this.settings.window);
          accepted.push({ item, record: decision.record });
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
        for (const { item } of accepted) item.reject(failure);
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
  private commitLocally(
    records: readonly OpCommitted[],
    acks: ReadonlyArray<{ item: PendingSubmit; record: OpCommitted }> | undefined,
  ): void {
    for (const record of records) {
      this.state = evolve(this.state, record, this.settings.window);
      const sender = acks?.find((a) => a.record === record)?.item;
      const message: ServerMessage = { t: 'op', docId: record.docId, ...toWireOp(record) };
      for (const sub of this.subscribers.values()) if (sub.id !== sender?.from.id) sub.deliver(message);
      if (sender !== undefined) {
        sender.from.deliver({ t: 'ack', docId: record.docId, seq: record.seq, version: record.version });
        sender.resolve(record.version);
      }
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

  /** Reject everything waiting (the channel is being dropped). */
  abort(error: ProtocolError): void {
    for (const item of this.pending) item.reject(error);
    this.pending = [];
  }
}
