/**
 * The command bus port: how a command-service instance that does not sequence a document hands a client's
 * submission to the instance that does, and how it learns the outcome. Kafka in the distributed mode (a
 * `commands` topic keyed by docId with the ops topic's partition count, and a `replies` topic); the embedded
 * mode has one instance that owns everything and needs no bus.
 *
 * Ownership is the assignment of the commands topic's partitions in one consumer group: the member given
 * partition p sequences every document of ops partition p (same count, same partitioner). Taking a partition
 * still opens the ops writer first, so the ops log's fencing — not this assignment — is what guarantees one
 * writer per document while a rebalance is under way.
 *
 * Delivery is at least once: a command is redelivered after a crash or a rebalance unless its offset was
 * checkpointed, and the origin may forward the same (clientId, seq) again after a timeout. The sequencer's
 * dedupe by (userId, clientId, seq) is what makes that exactly once in the ops log.
 */
import type { CommentCommand, CommentEvent } from '../domain/comments.js';
import type { Submission } from '../domain/submit.js';
import type { ConsumerContext, Consumer, Offset } from './op-log.js';

/** A client's submission on its way to the document's owner. */
export interface ForwardedSubmission {
  /** The instance the client is connected to; replies go to it. */
  origin: string;
  /** As validated by the origin (the op itself is validated by the sequencer). */
  submission: Submission;
  /** When the origin forwarded it (ms since epoch, origin clock): for logs and lag metrics only. */
  forwardedAt: number;
}

/**
 * A client's comment command on its way to the document's owner (docs/comments.md). The origin checked the
 * token (`comment` permission) and the message's shape; the owner decides it against the head like a local one.
 */
export interface ForwardedCommentCommand {
  origin: string;
  comment: { docId: string; userId: string; ref: string; command: CommentCommand };
  forwardedAt: number;
}

export type ForwardedCommand = ForwardedSubmission | ForwardedCommentCommand;

export const isForwardedComment = (command: ForwardedCommand): command is ForwardedCommentCommand =>
  'comment' in command;

/** The document a forwarded command is for (its key and partition on the bus). */
export const forwardedDocId = (command: ForwardedCommand): string =>
  isForwardedComment(command) ? command.comment.docId : command.submission.docId;

/**
 * What tells a forwarded comment command's origin that it was committed: the key of the event it makes, computed
 * from the command (origin) and from the event the relay brings (`commentEventKey`). The ids are the client's, so a
 * retry has the same key; an edit's key holds its text (two edits of one message are two events).
 */
export function commentCommandKey(docId: string, userId: string, command: CommentCommand): string {
  const made = {
    create: 'created',
    reply: 'replied',
    edit: 'edited',
    resolve: 'resolved',
    reopen: 'reopened',
    delete: 'deleted',
  }[command.kind];
  const messageId = 'messageId' in command ? command.messageId : null;
  const text = command.kind === 'edit' ? command.text : null;
  return JSON.stringify([docId, userId, made, command.threadId, messageId, text]);
}

export function commentEventKey(event: CommentEvent): string {
  const { body } = event;
  const messageId = 'messageId' in body ? body.messageId : null;
  const text = body.kind === 'edited' ? body.text : null;
  return JSON.stringify([event.docId, event.userId, body.kind, body.threadId, messageId, text]);
}

export interface CommandRecord {
  partition: number;
  offset: Offset;
  value: ForwardedCommand;
  /** W3C trace context (`traceparent`, ...) of the client's submit, so the owner continues the trace. */
  headers: Record<string, string>;
}

/**
 * The outcomes the origin cannot see in the ops log. A commit needs no reply: the origin's relay of the ops
 * topic sees the record (docId, userId, clientId, seq) and acks its client from there, in version order.
 */
export type CommandOutcome =
  | { kind: 'duplicate'; version: number }
  | { kind: 'reject'; code: string; message: string; retriable: boolean; detail?: string };

export interface SubmissionReply {
  origin: string;
  docId: string;
  /** The submitter: with clientId and seq, the dedupe key the origin's waiting submission is found by. */
  userId: string;
  clientId: string;
  seq: number;
  outcome: CommandOutcome;
}

/**
 * The outcome of a forwarded comment command the origin cannot see in the log: a rejection, or a duplicate
 * (`version`: the owner's durable version when it answered). A commit needs no reply: the relay brings the event,
 * found by its `commentKey` (commentCommandKey).
 */
export interface CommentReply {
  origin: string;
  docId: string;
  userId: string;
  commentKey: string;
  outcome: CommandOutcome;
}

export type CommandReply = SubmissionReply | CommentReply;

export const isCommentReply = (reply: CommandReply): reply is CommentReply => 'commentKey' in reply;

export type CommandBatchHandler = (records: readonly CommandRecord[], context: ConsumerContext) => Promise<void>;

export interface ConsumeCommandsOptions {
  /** All sequencers share one group: its assignment of the commands partitions is the ownership. */
  groupId: string;
  /** Checkpoint a command only once it is decided and, if committed, durable in the ops log. */
  handler: CommandBatchHandler;
  /** Called before any command of these partitions is handled: open the ops writers (fence) and reload here. */
  onAssigned?: (partitions: number[]) => Promise<void> | void;
  /** Called after this member lost the partitions (a new owner may already be running: fencing protects). */
  onRevoked?: (partitions: number[]) => Promise<void> | void;
}

export interface CommandBus {
  readonly partitionCount: number;
  /** Must agree with the ops log's partitionFor for every docId. */
  partitionFor(docId: string): number;
  /** Resolves once the command is durable on the bus (acks=all). Retriable errors: ERR_UNAVAILABLE/ERR_TIMEOUT. */
  forward(command: ForwardedCommand, headers?: Record<string, string>): Promise<void>;
  consumeCommands(options: ConsumeCommandsOptions): Promise<Consumer>;
  /** Best effort: a lost reply makes the origin time out and the client resubmit, which the dedupe answers. */
  reply(reply: CommandReply): Promise<void>;
  /**
   * Receive the replies addressed to `origin`, from the moment this resolves on (earlier ones are of no use: the
   * forwards they answer belong to a previous incarnation of the instance).
   */
  consumeReplies(origin: string, handler: (reply: CommandReply) => void): Promise<Consumer>;
  close(): Promise<void>;
}
