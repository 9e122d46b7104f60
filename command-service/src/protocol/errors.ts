/**
 * The server's error for everything a client is told: a code from the protocol's error table
 * (`@collab/protocol`, with its retriable flag), a sentence, and which request it is about. Documented in
 * docs/protocol.md; the SDK switches on these codes.
 */
import type { CommentRejectionCode, SubmitRejectionCode } from '@collab/core';
import type { ProtocolErrorCode } from '@collab/protocol';
import { isRetriable } from '@collab/protocol';

// The sequencer's rejections go to clients as they are: each must be a code of the protocol's table.
type Assert<T extends true> = T;
export type SubmitRejectionsAreProtocolErrors = Assert<SubmitRejectionCode extends ProtocolErrorCode ? true : false>;
export type CommentRejectionsAreProtocolErrors = Assert<CommentRejectionCode extends ProtocolErrorCode ? true : false>;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly retriable: boolean;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly options: {
      retryAfterMs?: number;
      docId?: string;
      seq?: number;
      /** The comment command's request id. */
      ref?: string;
      detail?: string;
    } = {},
  ) {
    super(message);
    this.retriable = isRetriable(code);
  }

  /** When retrying may succeed (as CollabError has it, for code that handles both). */
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}
