/**
 * The owner's side of forwarding: the handler of the commands consumer. Every forwarded submission is sequenced
 * exactly like a local one (same queue, same decideSubmit, same dedupe by (userId, clientId, seq)); the origin learns a
 * commit from the ops topic and everything else from a reply.
 *
 * Checkpoint discipline (replays are harmless, nothing is skipped): a command's offset is checkpointed only once
 * it is decided — rejected, recognised as a duplicate, or committed and durable in the ops log. A command whose
 * outcome is unknown (the append failed, ownership is moving) is not: the batch's decided prefix is checkpointed
 * and the handler throws, so the consumer delivers the rest again — to us, or after a rebalance to the new
 * owner, whose dedupe answers whatever did land.
 */
import {
  commentCommandKey,
  forwardedDocId,
  isForwardedComment,
  type CommandBatchHandler,
  type CommandBus,
  type CommandOutcome,
  type CommandRecord,
  type CommandReply,
  type ForwardedCommand,
} from '@collab/core';
import type { Logger } from 'pino';
import { continueTrace } from '@collab/observability';
import { ProtocolError } from '../protocol/errors.js';
import { TRACER_NAME } from '../telemetry.js';
import type { DocumentHub } from './document-hub.js';

export interface CommandHandlerDeps {
  hub: DocumentHub;
  bus: CommandBus;
  instanceId: string;
  logger: Logger;
  /** How long one command may keep failing retriably (reloads, a log hiccup) before the batch is given back. */
  retryForMs?: number;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createCommandHandler(deps: CommandHandlerDeps): CommandBatchHandler {
  const { hub, bus, instanceId, logger } = deps;
  const retryForMs = deps.retryForMs ?? 5_000;

  const send = async (reply: CommandReply): Promise<void> => {
    // Our own forward (its session is on this instance): settle it here, no round trip through Kafka.
    if (reply.origin === instanceId) return hub.settleReply(reply);
    // Best effort: a lost reply makes the origin time out, and the client's resubmission is answered again.
    await bus.reply(reply).catch((err: unknown) => logger.warn({ err, origin: reply.origin }, 'reply not sent'));
  };

  /** true once decided; false if this instance could not decide it (not the owner, or still failing). */
  const decide = async (command: ForwardedCommand, partition: number): Promise<boolean> => {
    const docId = forwardedDocId(command);
    // A comment command's origin finds its waiting command by the key of the event it makes; a submission's by
    // (userId, clientId, seq).
    const replyWith = (outcome: CommandOutcome): CommandReply =>
      isForwardedComment(command)
        ? {
            origin: command.origin,
            docId,
            userId: command.comment.userId,
            commentKey: commentCommandKey(docId, command.comment.userId, command.comment.command),
            outcome,
          }
        : {
            origin: command.origin,
            docId,
            userId: command.submission.userId,
            clientId: command.submission.clientId,
            seq: command.submission.seq,
            outcome,
          };
    const deadline = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await hub.sequenceForwarded(command);
        if (outcome.duplicate) await send(replyWith({ kind: 'duplicate', version: outcome.version }));
        return true;
      } catch (err) {
        if (err instanceof ProtocolError && !err.retriable) {
          await send(
            replyWith({
              kind: 'reject',
              code: err.code,
              message: err.message,
              retriable: false,
              ...(err.options.detail === undefined ? {} : { detail: err.options.detail }),
            }),
          );
          return true;
        }
        if (!(err instanceof ProtocolError)) logger.error({ err, docId }, 'sequencing a forwarded command failed');
        if (!hub.owns(partition) || Date.now() >= deadline) return false;
        // The channel reloads itself after a failed append; give it a moment before the next attempt.
        await delay(Math.min(50 * 2 ** attempt, 1_000));
      }
    }
  };

  return async (records: readonly CommandRecord[], context) => {
    // All at once: each document's queue keeps their order, and documents batch into shared appends.
    // Each command continues the trace of the submit it carries (the origin put it in the record's headers).
    const decided = await Promise.all(
      records.map((r) =>
        continueTrace(TRACER_NAME, 'collab.forwarded', [r.headers], { 'collab.doc_id': forwardedDocId(r.value) }, () =>
          decide(r.value, r.partition),
        ),
      ),
    );
    const firstUndecided = decided.indexOf(false);
    const done = firstUndecided < 0 ? records.length : firstUndecided;
    const last = records[done - 1];
    if (last !== undefined) context.checkpoint(last.offset);
    if (firstUndecided >= 0) {
      const record = records[firstUndecided]!;
      logger.warn(
        { partition: record.partition, offset: record.offset.toString(), owned: hub.owns(record.partition) },
        'forwarded commands left undecided; they will be delivered again',
      );
      throw new Error(`commands partition ${record.partition}: offset ${record.offset} undecided`);
    }
  };
}
