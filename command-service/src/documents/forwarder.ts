/**
 * The origin side of forwarding: submissions for documents another instance sequences go onto the command bus,
 * and the client's ack or error comes back from one of three places —
 *
 * - the relay of the ops topic, for commits: the channel asks `claim(record)` for the sessions waiting on that
 *   (docId, userId, clientId, seq) and acks them in version order with the ops they see (see DocumentChannel);
 * - the replies topic, for rejections and duplicates (nothing new in the ops log to see);
 * - the timer: no outcome within `timeoutMs` rejects ERR_UNAVAILABLE (retriable). The command may still be
 *   sequenced later; the client resubmits the same (clientId, seq) and the owner's dedupe answers it, so a
 *   timeout never turns into a lost or doubled op.
 *
 * Each waiting submission is settled exactly once, whichever of these comes first.
 *
 * Comment commands (docs/comments.md) take the same three roads: the relay brings the event they made (found by
 * `commentEventKey`, and the channel sends the `comment` frame to every subscriber before the sender's
 * `comment-ack`), a reply brings a rejection or a duplicate, or the timer expires (ERR_UNAVAILABLE: the client
 * sends the same command again, its ids make the owner answer it as a duplicate).
 */
import {
  commentCommandKey,
  commentEventKey,
  isCommentReply,
  type CommandBus,
  type CommandReply,
  type CommentEvent,
  type OpCommitted,
  type Submission,
} from '@collab/core';
import type { Logger } from 'pino';
import type { ProtocolErrorCode } from '@collab/protocol';
import { ProtocolError } from '../protocol/errors.js';
import { traceHeaders } from '../telemetry.js';
import type { CommentOutcome, CommentRequest, Subscriber, SubmitOutcome } from './document-channel.js';

interface Waiter {
  from: Subscriber;
  resolve: (outcome: SubmitOutcome) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

interface CommentWaiter {
  from: Subscriber;
  ref: string;
  resolve: (outcome: CommentOutcome) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * The dedupe key of a submission in its document. With the user: another user's commit under the same (clientId,
 * seq) must not claim (ack) this submission — its op would never be stored.
 */
const keyOf = (r: { docId: string; userId: string; clientId: string; seq: number }): string =>
  JSON.stringify([r.docId, r.userId, r.clientId, r.seq]);

export class Forwarder {
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly waitingComments = new Map<string, CommentWaiter[]>();

  constructor(
    private readonly bus: CommandBus,
    readonly instanceId: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Submissions waiting for an outcome (a gauge for operators). */
  get pendingCount(): number {
    let n = 0;
    for (const list of this.waiting.values()) n += list.length;
    for (const list of this.waitingComments.values()) n += list.length;
    return n;
  }

  forward(submission: Submission, from: Subscriber): Promise<SubmitOutcome> {
    const key = keyOf(submission);
    const { docId, seq } = submission;
    return new Promise<SubmitOutcome>((resolve, reject) => {
      const waiter: Waiter = {
        from,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (!this.remove(key, waiter)) return;
          this.logger.warn({ docId, clientId: submission.clientId, seq }, 'forwarded submission timed out');
          reject(
            new ProtocolError(
              'ERR_UNAVAILABLE',
              `The server sequencing this document did not answer within ${this.timeoutMs} ms; resend the same op.`,
              { retryAfterMs: 250, docId, seq },
            ),
          );
        }, this.timeoutMs),
      };
      // Register before sending: the outcome may come back before send() resolves.
      const list = this.waiting.get(key);
      if (list === undefined) this.waiting.set(key, [waiter]);
      else list.push(waiter);
      this.bus
        .forward({ origin: this.instanceId, submission, forwardedAt: this.now() }, traceHeaders())
        .catch((err: unknown) => {
          if (!this.remove(key, waiter)) return;
          clearTimeout(waiter.timer);
          this.logger.warn({ err, docId, seq }, 'could not forward a submission');
          reject(
            new ProtocolError('ERR_UNAVAILABLE', 'The command bus is unavailable; resend the same op shortly.', {
              retryAfterMs: 500,
              docId,
              seq,
            }),
          );
        });
    });
  }

  /**
   * A record of the document became known here (relay, or the catch-up of a reload). Settles the submissions
   * waiting for it and returns their subscribers; the caller sends the acks, in order with the ops.
   */
  claim(record: OpCommitted): Subscriber[] {
    const key = keyOf(record);
    const list = this.waiting.get(key);
    if (list === undefined) return [];
    this.waiting.delete(key);
    for (const w of list) {
      clearTimeout(w.timer);
      w.resolve({ version: record.version, duplicate: false });
    }
    return list.map((w) => w.from);
  }

  /**
   * Hands a comment command to the document's owner. Resolves once the relay brought its event here (the caller's
   * channel has then sent the `comment` frame and the `comment-ack`) or the owner answered it as a duplicate (the
   * `comment-ack` is sent here); rejects with the owner's refusal, or ERR_UNAVAILABLE (retriable) on a timeout.
   */
  forwardComment(request: CommentRequest, from: Subscriber): Promise<CommentOutcome> {
    const { docId, ref, userId, command } = request;
    const key = commentCommandKey(docId, userId, command);
    return new Promise<CommentOutcome>((resolve, reject) => {
      const waiter: CommentWaiter = {
        from,
        ref,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (!this.removeComment(key, waiter)) return;
          this.logger.warn({ docId, ref, kind: command.kind }, 'forwarded comment command timed out');
          reject(
            new ProtocolError(
              'ERR_UNAVAILABLE',
              `The server sequencing this document did not answer within ${this.timeoutMs} ms; send the same command again.`,
              { retryAfterMs: 250, docId, ref },
            ),
          );
        }, this.timeoutMs),
      };
      const list = this.waitingComments.get(key);
      if (list === undefined) this.waitingComments.set(key, [waiter]);
      else list.push(waiter);
      this.bus
        .forward(
          { origin: this.instanceId, comment: { docId, userId, ref, command }, forwardedAt: this.now() },
          traceHeaders(),
        )
        .catch((err: unknown) => {
          if (!this.removeComment(key, waiter)) return;
          clearTimeout(waiter.timer);
          this.logger.warn({ err, docId, ref }, 'could not forward a comment command');
          reject(
            new ProtocolError('ERR_UNAVAILABLE', 'The command bus is unavailable; send the same command shortly.', {
              retryAfterMs: 500,
              docId,
              ref,
            }),
          );
        });
    });
  }

  /**
   * A comment event of the document reached this replica (the relay). Returns the waiting commands it answers,
   * with the `ref` to ack each one by; the caller acks them after sending the event to every subscriber, then
   * calls `resolve` on each.
   */
  claimComment(event: CommentEvent): { from: Subscriber; ref: string; resolve: () => void }[] {
    const key = commentEventKey(event);
    const list = this.waitingComments.get(key);
    if (list === undefined) return [];
    this.waitingComments.delete(key);
    return list.map((w) => {
      clearTimeout(w.timer);
      return { from: w.from, ref: w.ref, resolve: () => w.resolve({ duplicate: false }) };
    });
  }

  /**
   * A reply from the owner. `reachedVersion` is how far this instance's replica of the document is: a duplicate
   * ack for a version the replica has not reached yet waits for the relay to bring that record (which claims
   * the waiter), so the client never gets an ack ahead of the ops before it.
   */
  settleReply(reply: CommandReply, reachedVersion: (docId: string) => number | undefined): void {
    if (isCommentReply(reply)) {
      this.settleCommentReply(reply, reachedVersion);
      return;
    }
    const key = keyOf(reply);
    const list = this.waiting.get(key);
    if (list === undefined) return; // settled already (or timed out): the client resubmits and is answered then
    const { outcome } = reply;
    if (outcome.kind === 'duplicate') {
      const reached = reachedVersion(reply.docId);
      if (reached === undefined || reached < outcome.version) return;
      this.waiting.delete(key);
      for (const w of list) {
        clearTimeout(w.timer);
        w.from.deliver({ t: 'ack', docId: reply.docId, seq: reply.seq, version: outcome.version });
        w.resolve({ version: outcome.version, duplicate: true });
      }
      return;
    }
    this.waiting.delete(key);
    for (const w of list) {
      clearTimeout(w.timer);
      w.reject(
        new ProtocolError(outcome.code as ProtocolErrorCode, outcome.message, {
          docId: reply.docId,
          seq: reply.seq,
          ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
        }),
      );
    }
  }

  /**
   * A duplicate is acked once this replica has reached the owner's version at the time it answered (the event that
   * made it a duplicate is at that version or before, so its `comment` frame is out or comes at that version).
   */
  private settleCommentReply(
    reply: Extract<CommandReply, { commentKey: string }>,
    reachedVersion: (docId: string) => number | undefined,
  ): void {
    const list = this.waitingComments.get(reply.commentKey);
    if (list === undefined) return;
    const { outcome } = reply;
    if (outcome.kind === 'duplicate') {
      const reached = reachedVersion(reply.docId);
      if (reached === undefined || reached < outcome.version) return; // the relay's event (or a retry) settles it
      this.waitingComments.delete(reply.commentKey);
      for (const w of list) {
        clearTimeout(w.timer);
        w.from.deliver({ t: 'comment-ack', docId: reply.docId, ref: w.ref, duplicate: true });
        w.resolve({ duplicate: true });
      }
      return;
    }
    this.waitingComments.delete(reply.commentKey);
    for (const w of list) {
      clearTimeout(w.timer);
      w.reject(
        new ProtocolError(outcome.code as ProtocolErrorCode, outcome.message, {
          docId: reply.docId,
          ref: w.ref,
          ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
        }),
      );
    }
  }

  /** Shutting down: everything still waiting gets a retriable error (the client resends elsewhere). */
  abortAll(): void {
    for (const [key, list] of this.waitingComments) {
      this.waitingComments.delete(key);
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new ProtocolError('ERR_UNAVAILABLE', 'This server is shutting down; send the same command again.'));
      }
    }
    for (const [key, list] of this.waiting) {
      this.waiting.delete(key);
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new ProtocolError('ERR_UNAVAILABLE', 'This server is shutting down; resend the same op.'));
      }
    }
  }

  private removeComment(key: string, waiter: CommentWaiter): boolean {
    const list = this.waitingComments.get(key);
    const i = list?.indexOf(waiter) ?? -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.waitingComments.delete(key);
    return true;
  }

  private remove(key: string, waiter: Waiter): boolean {
    const list = this.waiting.get(key);
    const i = list?.indexOf(waiter) ?? -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(key);
    return true;
  }
}
