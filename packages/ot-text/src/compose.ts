/**
 * Compose: one op with the effect of `a` then `b`. Clients compose pending edits while one op is in flight.
 */
import type { TextOp } from './op.js';
import { append, checkOp, componentLength, dlen, dslice, trim } from './op.js';
import { OpReader } from './op-reader.js';
import { codePointLength } from './unicode.js';

export function compose(a: TextOp, b: TextOp): TextOp {
  checkOp(a);
  checkOp(b);
  const out: TextOp = [];
  const reader = new OpReader(a);
  for (const c of b) {
    if (typeof c === 'number') {
      // b keeps c code points of a's result: copy a's components (a's deletes there consume nothing of it).
      let length = c;
      while (length > 0) {
        const part = reader.take(length, 'd');
        append(out, part);
        if (typeof part !== 'object') length -= componentLength(part);
      }
    } else if (typeof c === 'string') {
      append(out, c);
    } else {
      // b deletes code points of a's result: a's inserts there cancel out, a's skips become deletes.
      const length = dlen(c.d);
      let offset = 0;
      while (offset < length) {
        const part = reader.take(length - offset, 'd');
        if (typeof part === 'number') {
          append(out, { d: dslice(c.d, offset, offset + part) });
          offset += part;
        } else if (typeof part === 'string') {
          offset += codePointLength(part);
        } else {
          append(out, part);
        }
      }
    }
  }
  for (let rest = reader.takeAll(); rest !== null; rest = reader.takeAll()) append(out, rest);
  return trim(out);
}
