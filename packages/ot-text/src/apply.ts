/**
 * Apply an op to a document. Unlike the reference (which silently ignores deletes past the end and never looks at
 * deleted text), an op that does not fit the document is rejected and the document is left untouched: a client
 * whose op does not fit has diverged, and the server must say so rather than guess.
 */
import { Doc } from './document.js';
import { OtError } from './errors.js';
import type { TextOp } from './op.js';
import { checkOp, dlen } from './op.js';
import { ropeSlice, ropeSplice } from './rope.js';
import { codePointLength } from './unicode.js';

/** Throw unless `op` (already well-formed) fits `doc`: no skip or delete past the end, deleted text matches. */
export function checkOpFits(doc: Doc, op: TextOp): void {
  let pos = 0; // in the original document
  for (let i = 0; i < op.length; i++) {
    const c = op[i]!;
    if (typeof c === 'string') continue;
    const n = typeof c === 'number' ? c : dlen(c.d);
    if (pos + n > doc.length) {
      const what = typeof c === 'number' ? 'skips' : 'deletes';
      throw new OtError(
        'ERR_OP_TOO_LONG',
        `Component ${i} ${what} to position ${pos + n}, past the end of the document (length ${doc.length}).`,
        i,
      );
    }
    if (typeof c === 'object' && typeof c.d === 'string' && ropeSlice(doc.root, pos, pos + n) !== c.d) {
      throw new OtError(
        'ERR_OP_DELETE_MISMATCH',
        `Component ${i} deletes text that differs from the document's text there.`,
        i,
      );
    }
    pos += n;
  }
}

export function applyOp(snapshot: Doc, op: TextOp): Doc {
  checkOp(op);
  checkOpFits(snapshot, op);
  let root = snapshot.root;
  let pos = 0; // in the document being built
  for (const c of op) {
    if (typeof c === 'number') {
      pos += c;
    } else if (typeof c === 'string') {
      const n = codePointLength(c);
      root = ropeSplice(root, pos, 0, c, n);
      pos += n;
    } else {
      root = ropeSplice(root, pos, dlen(c.d), '', 0);
    }
  }
  return new Doc(root);
}
