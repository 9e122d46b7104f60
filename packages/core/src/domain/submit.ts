/**
 * The sequencer's decision for one submitted op — pure: no I/O, no clock, no randomness. Given the document's
 * state and a submission, it either rejects it (with a stable code), recognises a resubmission of an op that is
 * already committed (answer with the original version — never a second copy), or produces the record to append:
 * the op transformed from its base version to the head, with the next version.
 *
 * The caller appends the record to the log and only once it is durable folds it into the state (`evolve`), acks
 * the sender and broadcasts it.
 */
import type { TextOp } from '@collab/ot-text';
import { checkOpFits, codePointLength, OtError, type } from '@collab/ot-text';
import type { OpCommitted } from '../records.js';
import type { DocumentState } from './document-state.js';
import { opsSince } from './document-state.js';

export interface Submission {
  docId: string;
  clientId: string;
  seq: number;
  baseVersion: number;
  /** As received: validated here. */
  op: unknown;
  userId: string;
}

export interface SubmitLimits {
  /**
   * Most code points of text an op may carry: what it inserts plus the text its deletes name (`{d: "text"}`).
   * Deleted text counts because the op is kept as sent — in the window of recent ops and in every catch-up —
   * so without it a delete would be bounded only by the frame size.
   */
  maxOpInsertLength: number;
  /** Most components an op may have. */
  maxOpComponents: number;
  /** Largest document (code points) an op may produce. */
  maxDocumentLength: number;
}

export const DEFAULT_SUBMIT_LIMITS: SubmitLimits = {
  maxOpInsertLength: 64 * 1024,
  maxOpComponents: 2048,
  maxDocumentLength: 16 * 1024 * 1024,
};

export type SubmitRejectionCode =
  | 'ERR_OP_INVALID'
  | 'ERR_OP_TOO_LARGE'
  | 'ERR_DOC_TOO_LARGE'
  | 'ERR_BASE_VERSION_INVALID'
  | 'ERR_BASE_VERSION_FUTURE'
  | 'ERR_RESYNC_REQUIRED'
  | 'ERR_CLIENT_ID_TAKEN';

export type SubmitDecision =
  | { kind: 'reject'; code: SubmitRejectionCode; message: string; retriable: boolean; detail?: string }
  | { kind: 'duplicate'; version: number }
  | { kind: 'commit'; record: OpCommitted };

const reject = (code: SubmitRejectionCode, message: string, detail?: string): SubmitDecision => ({
  kind: 'reject',
  code,
  message,
  retriable: false,
  ...(detail === undefined ? {} : { detail }),
});

function insertedLength(op: TextOp): number {
  let n = 0;
  for (const c of op) if (typeof c === 'string') n += codePointLength(c);
  return n;
}

/** Code points of text the op carries: inserted, and named by its deletes. */
function carriedLength(op: TextOp): number {
  let n = insertedLength(op);
  for (const c of op) if (typeof c === 'object' && typeof c.d === 'string') n += codePointLength(c.d);
  return n;
}

/** Code points the op walks over in the document it applies to (skips and deletes). */
function consumedLength(op: TextOp): number {
  let n = 0;
  for (const c of op) {
    if (typeof c === 'number') n += c;
    else if (typeof c === 'object') n += typeof c.d === 'number' ? c.d : codePointLength(c.d);
  }
  return n;
}

/** How much longer (or shorter, negative) the op makes the document. */
const growthOf = (op: TextOp): number => insertedLength(op) - consumedLength(op) + skippedLength(op);

function skippedLength(op: TextOp): number {
  let n = 0;
  for (const c of op) if (typeof c === 'number') n += c;
  return n;
}

export function decideSubmit(
  state: DocumentState,
  submission: Submission,
  now: number,
  limits: SubmitLimits = DEFAULT_SUBMIT_LIMITS,
): SubmitDecision {
  const { baseVersion, clientId, seq, userId } = submission;
  if (!Number.isSafeInteger(baseVersion) || baseVersion < 0) {
    return reject(
      'ERR_BASE_VERSION_INVALID',
      `baseVersion must be a non-negative integer, not ${String(baseVersion)}.`,
    );
  }
  if (baseVersion > state.version) {
    return reject(
      'ERR_BASE_VERSION_FUTURE',
      `baseVersion ${baseVersion} is ahead of the document (version ${state.version}); reload the document.`,
    );
  }
  const since = opsSince(state, baseVersion);
  if (since === undefined) {
    return reject(
      'ERR_RESYNC_REQUIRED',
      `baseVersion ${baseVersion} is ${state.version - baseVersion} versions behind, more than the server keeps; reload the document.`,
    );
  }
  // A resubmission (after a reconnect, say) of an op already committed: it was committed after its base version,
  // so it is among the ops since then. Answer with its version; never commit it twice. The key is (user,
  // clientId, seq): clientIds are public (every op broadcast shows them), so without the user anyone could send
  // a victim's next (clientId, seq) first and have the victim's real op answered as a duplicate of theirs.
  for (const committed of since) {
    if (committed.clientId === clientId && committed.seq === seq && committed.userId === userId)
      return { kind: 'duplicate', version: committed.version };
  }
  // A clientId is one client instance, so one user: another user's op under it is a copy of someone else's id.
  // Checked after the dedupe, so the holder's own resubmissions are still answered. It sees only the window; the
  // user in the dedupe key is what makes a clash beyond it harmless.
  if (state.recent.some((committed) => committed.clientId === clientId && committed.userId !== userId)) {
    return reject(
      'ERR_CLIENT_ID_TAKEN',
      `clientId ${JSON.stringify(clientId)} is in use by another user on this document; use a new random clientId.`,
    );
  }
  try {
    type.checkOp(submission.op);
  } catch (err) {
    if (err instanceof OtError) return reject('ERR_OP_INVALID', err.message, err.code);
    throw err;
  }
  let op = submission.op as TextOp;
  if (op.length > limits.maxOpComponents) {
    return reject('ERR_OP_TOO_LARGE', `The op has ${op.length} components; the limit is ${limits.maxOpComponents}.`);
  }
  const carried = carriedLength(op);
  if (carried > limits.maxOpInsertLength) {
    return reject(
      'ERR_OP_TOO_LARGE',
      `The op carries ${carried} characters of text (inserted, or named by its deletes); the limit is ${limits.maxOpInsertLength}. Split large pastes into several ops; send deletes as counts ({d: N}).`,
    );
  }
  // The op must fit the document it was made on. The rope of that version is gone, but its length is not:
  // the head's length minus what each op since then added.
  let baseLength = state.doc.length;
  for (const committed of since) baseLength -= growthOf(committed.op);
  if (consumedLength(op) > baseLength) {
    return reject(
      'ERR_OP_INVALID',
      `The op reaches position ${consumedLength(op)}, past the end of version ${baseVersion} (length ${baseLength}).`,
      'ERR_OP_TOO_LONG',
    );
  }
  // Transform from the base version to the head. The incoming op is on the left: when it and a committed op
  // insert at the same place, the incoming insert goes first (the ShareDB / ot.js convention).
  for (const committed of since) op = type.transform(op, committed.op, 'left');
  try {
    checkOpFits(state.doc, op);
  } catch (err) {
    if (err instanceof OtError) {
      return reject(
        'ERR_OP_INVALID',
        `The op does not fit version ${baseVersion} of the document: ${err.message}`,
        err.code,
      );
    }
    throw err;
  }
  const growth = growthOf(op);
  if (state.doc.length + growth > limits.maxDocumentLength) {
    return reject(
      'ERR_DOC_TOO_LARGE',
      `The op would make the document ${state.doc.length + growth} characters long; the limit is ${limits.maxDocumentLength}.`,
    );
  }
  return {
    kind: 'commit',
    record: {
      docId: state.docId,
      version: state.version + 1,
      op,
      baseVersion,
      clientId,
      seq,
      userId: submission.userId,
      timestamp: now,
    },
  };
}
