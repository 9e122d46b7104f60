/**
 * Cursor positions through concurrent ops. A presence update names the version its positions refer to; before it
 * is shown anywhere it is moved forward through every op committed after that version, so a cursor stays on the
 * same character while others type. Positions count code points, as ops do.
 */
import type { OpCommitted } from '@collab/core';
import type { TextOp } from '@collab/ot-text';
import { codePointLength, dlen, transformCaret } from '@collab/ot-text';

export interface Cursor {
  anchor: number;
  head: number;
}

/**
 * `type.transformPosition` keeps a cursor *before* text inserted exactly at it: right for everyone else's typing,
 * wrong for the cursor owner's own typing (their caret is after what they just typed). A user's cursor is often
 * computed before their own op is sequenced (the SDK sends positions in the confirmed text, without its pending
 * ops), so when the op that lands is theirs, inserts at the caret push it forward.
 */
export function transformPosition(position: number, op: TextOp, ownOp: boolean): number {
  return transformCaret(position, op, ownOp);
}

export function transformCursor(cursor: Cursor, op: TextOp, ownOp: boolean): Cursor {
  return { anchor: transformPosition(cursor.anchor, op, ownOp), head: transformPosition(cursor.head, op, ownOp) };
}

/** The recent window of a document: `recent[i].version === version - recent.length + 1 + i`. */
export interface DocumentWindow {
  readonly version: number;
  readonly recent: readonly Pick<OpCommitted, 'version' | 'op' | 'userId'>[];
}

/**
 * Move `cursor`, which refers to version `from`, to the window's version. `undefined` when the window no longer
 * holds every op after `from` (too old: better no cursor than a wrong one) or `from` is ahead of the window.
 * `userId` is the cursor's owner (their own ops push it; see transformPosition).
 */
export function cursorAt(cursor: Cursor, from: number, window: DocumentWindow, userId: string): Cursor | undefined {
  if (from > window.version) return undefined;
  const first = window.version - window.recent.length + 1; // the oldest op the window holds
  if (from + 1 < first) return undefined;
  let moved = cursor;
  for (let i = from + 1 - first; i < window.recent.length; i++) {
    const record = window.recent[i]!;
    moved = transformCursor(moved, record.op, record.userId === userId);
  }
  return moved;
}

/** The document's length (code points) at version `at`, from its length now and the ops since; undefined if too old. */
export function lengthAt(lengthNow: number, at: number, window: DocumentWindow): number | undefined {
  if (at > window.version) return undefined;
  const first = window.version - window.recent.length + 1;
  if (at + 1 < first) return undefined;
  let length = lengthNow;
  for (let i = window.recent.length - 1; i >= at + 1 - first; i--) {
    for (const c of window.recent[i]!.op) {
      if (typeof c === 'string') length -= codePointLength(c);
      else if (typeof c === 'object') length += dlen(c.d);
    }
  }
  return length;
}
