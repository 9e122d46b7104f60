/**
 * Transform: given ops `op` and `other` made concurrently on the same document, rewrite `op` so it applies after
 * `other` with the same intent. `side` breaks the one real tie — both insert at the same position: the 'left' op's
 * insert ends up first. The command-service transforms an incoming op with side 'left' against ops committed
 * since its base version, so the incoming insert goes first (the ShareDB / ot.js convention).
 */
import { OtError } from './errors.js';
import type { TextOp } from './op.js';
import { append, checkOp, componentLength, dlen, trim } from './op.js';
import { OpReader } from './op-reader.js';
import { codePointLength } from './unicode.js';

export type Side = 'left' | 'right';

export function transform(op: TextOp, other: TextOp, side: Side): TextOp {
  if (side !== 'left' && side !== 'right') {
    throw new OtError('ERR_TRANSFORM_SIDE', `Transform side must be 'left' or 'right', not ${String(side)}.`);
  }
  checkOp(op);
  checkOp(other);
  const out: TextOp = [];
  const reader = new OpReader(op);
  for (const c of other) {
    if (typeof c === 'number') {
      // `other` keeps c code points: copy op's components over them (op's inserts there don't consume any).
      let length = c;
      while (length > 0) {
        const part = reader.take(length, 'i');
        append(out, part);
        if (typeof part !== 'string') length -= componentLength(part);
      }
    } else if (typeof c === 'string') {
      // `other` inserted text: op must skip over it — after placing its own insert first if it is on the left.
      if (side === 'left' && typeof reader.peek() === 'string') append(out, reader.takeAll());
      append(out, codePointLength(c));
    } else {
      // `other` deleted text: op's skips and deletes over it vanish; op's inserts there survive.
      let length = dlen(c.d);
      while (length > 0) {
        const part = reader.take(length, 'i');
        if (typeof part === 'number') length -= part;
        else if (typeof part === 'string') append(out, part);
        else length -= dlen(part.d);
      }
    }
  }
  for (let rest = reader.takeAll(); rest !== null; rest = reader.takeAll()) append(out, rest);
  return trim(out);
}

/**
 * Move a cursor (code point position) through `op`. Text inserted exactly at the cursor goes after it — the
 * cursor stays before other people's typing at its position, as in the reference.
 */
export function transformPosition(cursor: number, op: TextOp): number {
  let pos = 0;
  for (let i = 0; i < op.length && cursor > pos; i++) {
    const c = op[i]!;
    if (typeof c === 'number') {
      pos += c;
    } else if (typeof c === 'string') {
      const n = codePointLength(c);
      pos += n;
      cursor += n;
    } else {
      cursor -= Math.min(dlen(c.d), cursor - pos);
    }
  }
  return cursor;
}

export type Selection = number | [number, number];

/** Move a cursor or an [anchor, focus] selection through `op`. */
export function transformSelection<S extends Selection>(selection: S, op: TextOp): S {
  if (typeof selection === 'number') return transformPosition(selection, op) as S;
  if (!Array.isArray(selection) || selection.length !== 2 || !selection.every((p) => typeof p === 'number')) {
    throw new OtError('ERR_SELECTION_INVALID', 'A selection is a position or an [anchor, focus] pair of positions.');
  }
  return [transformPosition(selection[0], op), transformPosition(selection[1], op)] as S;
}
