/**
 * Inversion, for undo. An op can be inverted only when its deletes carry the deleted text ({d: "text"}), so
 * the server and the SDK call `makeInvertible` with the document the op applies to before they keep an op for undo.
 */
import { OtError } from './errors.js';
import type { TextOp } from './op.js';
import { eachComponent, mapOp } from './op.js';
import { codePointLength } from './unicode.js';

export function invert(op: TextOp): TextOp {
  return mapOp(op, (c) => {
    if (typeof c === 'string') return { d: c };
    if (typeof c === 'number') return c;
    if (typeof c.d === 'number') {
      throw new OtError(
        'ERR_OP_NOT_INVERTIBLE',
        'Cannot invert an op whose deletes carry no text; call makeInvertible with the document first.',
      );
    }
    return c.d;
  });
}

export function isInvertible(op: TextOp): boolean {
  let invertible = true;
  eachComponent(op, (c) => {
    if (typeof c === 'object' && typeof c.d === 'number') invertible = false;
  });
  return invertible;
}

/** Replace deleted text by its length, making the op smaller on the wire. */
export const stripInvertible = (op: TextOp): TextOp =>
  mapOp(op, (c) => (typeof c === 'object' && typeof c.d === 'string' ? { d: codePointLength(c.d) } : c));

/** Fill each {d: N} with the text it deletes from the document, read through `slice` (code points). */
export const makeInvertibleWith = (op: TextOp, slice: (start: number, end: number) => string): TextOp =>
  mapOp(op, (c, pre) => (typeof c === 'object' && typeof c.d === 'number' ? { d: slice(pre, pre + c.d) } : c));
