/**
 * The codec of the ops topic as a whole: each record is an `OpCommitted` or a `CommentEvent` (`LogValue`,
 * docs/comments.md), each with its own Avro schema, told apart by the schema id in the Confluent framing. A frame
 * whose id is a CommentEvent schema decodes as a comment event; every other frame goes to the OpCommitted codec
 * (which refuses what it cannot read as ERR_CORRUPT, as before comment events existed).
 */
import { isCommentEvent, type LogValue } from '@collab/core';
import { CommentEventCodec, localCommentEventCodec } from './comment-event.js';
import { OpCommittedCodec, localOpCommittedCodec, localOpCommittedCodecFor } from './op-committed.js';

export class LogValueCodec {
  constructor(
    readonly ops: OpCommittedCodec,
    readonly comments: CommentEventCodec,
  ) {}

  encode(value: LogValue): Buffer {
    return isCommentEvent(value) ? this.comments.encode(value) : this.ops.encode(value);
  }

  /**
   * Learns the frame's schema id when neither codec knows it: the comment codec asks first (one registry lookup
   * per id; with the registry codec both share the answer), the op codec only for an id that is no comment event.
   */
  prepare(frame: Buffer): Promise<void> | undefined {
    if (this.comments.knows(frame) || this.ops.knows(frame)) return undefined;
    const comments = this.comments.prepare(frame);
    if (comments === undefined) return this.ops.prepare(frame);
    return comments.then(() => (this.comments.knows(frame) ? undefined : this.ops.prepare(frame)));
  }

  /** The kind of record the frame holds, by its schema id (call `prepare` first for unknown ids). */
  kindOf(frame: Buffer): 'comment-event' | 'op-committed' {
    return this.comments.knows(frame) ? 'comment-event' : 'op-committed';
  }

  decode(frame: Buffer): LogValue {
    return this.comments.knows(frame) ? this.comments.decode(frame) : this.ops.decode(frame);
  }
}

/** Without a registry: the local table's ids (registry.ts). */
export const localLogValueCodec = new LogValueCodec(localOpCommittedCodec, localCommentEventCodec);

/**
 * Without a registry, writing ops with an older op-committed version (COLLAB_OPS_SCHEMA_VERSION during a rolling
 * upgrade: readers of the previous release know only its local id). It still reads every version's records.
 */
export const localLogValueCodecWriting = (opsVersion: number): LogValueCodec =>
  new LogValueCodec(localOpCommittedCodecFor(opsVersion), localCommentEventCodec);

export function encodeLogValue(value: LogValue): Buffer {
  return localLogValueCodec.encode(value);
}

export function decodeLogValue(frame: Buffer): LogValue {
  return localLogValueCodec.decode(frame);
}
