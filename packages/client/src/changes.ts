/**
 * Editors index text in UTF-16 code units; ops count Unicode code points. Every change the SDK reports carries
 * both: the op itself (code points, as on the wire) and the same edit as UTF-16 ranges, each relative to the text
 * before the change (the form CodeMirror's `changes` and Monaco's `applyEdits` take).
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { dlen } from '@collab/ot-text';

export interface Utf16Change {
  /** UTF-16 offset in the text before the change. */
  from: number;
  /** End (exclusive) of the replaced range, in the text before the change; equals `from` for a pure insert. */
  to: number;
  /** Inserted text ('' for a pure delete). */
  insert: string;
}

/** The UTF-16 ranges of `op`, applied to `before`, in document order and non-overlapping. */
export function utf16Changes(before: Doc, op: TextOp): Utf16Change[] {
  const changes: Utf16Change[] = [];
  let pos = 0; // code points of `before` walked so far
  for (const c of op) {
    if (typeof c === 'number') {
      pos += c;
      continue;
    }
    const from = before.codePointToUtf16(pos);
    const last = changes[changes.length - 1];
    // A delete and an insert at the same place are one replacement.
    const change = last !== undefined && last.to === from ? last : { from, to: from, insert: '' };
    if (change !== last) changes.push(change);
    if (typeof c === 'string') {
      change.insert += c;
    } else {
      pos += dlen(c.d);
      change.to = before.codePointToUtf16(pos);
    }
  }
  return changes;
}
