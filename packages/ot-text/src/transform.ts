/**
 * Transform: given ops `op` and `other` made concurrently on the same document, rewrite `op` so it applies after
 * `other` with the same intent. `side` breaks the one real tie — both insert at the same position: the 'left' op's
 * insert ends up first. The command-service transforms an incoming op with side 'left' against ops committed
 * since its base version, so the incoming insert goes first (the ShareDB / ot.js convention).
 */
import { OtError } from './errors.js';
import type { TextOp } from './op.js';
import type { Delete, TextOpComponent } from './op.js';
import { append, checkOp, componentLength, dlen, dslice, trim } from './op.js';
import { OpReader } from './op-reader.js';
import { codePointLength } from './unicode.js';

export type Side = 'left' | 'right';

export function transform(op: TextOp, other: TextOp, side: Side): TextOp {
  if (side !== 'left' && side !== 'right') {
    throw new OtError('ERR_TRANSFORM_SIDE', `Transform side must be 'left' or 'right', not ${String(side)}.`);
  }
  checkOp(op);
  checkOp(other);
  return transformSingleEdits(op, other, side) ?? transformGeneral(op, other, side);
}

/** `[pos, c]`, or `[c]` at position 0. */
const at = (pos: number, c: TextOpComponent): TextOp => (pos === 0 ? [c] : [pos, c]);

/**
 * Fast path for the overwhelmingly common case of two single edits, `[pos, insert]` or `[pos, {d}]` (pos may be
 * absent). Returns exactly what `transformGeneral` returns for them, without reading the ops piece by piece;
 * undefined when either op has another shape. Both ops have passed checkOp.
 */
function transformSingleEdits(op: TextOp, other: TextOp, side: Side): TextOp | undefined {
  if (op.length > 2 || other.length > 2) return undefined;
  let p = 0;
  let a = op[0];
  if (typeof a === 'number') {
    p = a;
    a = op[1];
  } else if (op.length !== 1) {
    return undefined;
  }
  let q = 0;
  let b = other[0];
  if (typeof b === 'number') {
    q = b;
    b = other[1];
  } else if (other.length !== 1) {
    return undefined;
  }
  if (a === undefined || b === undefined) return undefined; // empty ops
  if (typeof a === 'string') {
    if (typeof b === 'string') {
      // Both insert: op moves past other's text when it is after it, or at the same place and on the right.
      return at(p < q || (p === q && side === 'left') ? p : p + codePointLength(b), a);
    }
    // other deletes [q, q + n): an insert inside it lands where the delete was.
    const n = dlen((b as Delete).d);
    return at(p <= q ? p : Math.max(q, p - n), a);
  }
  const d = (a as Delete).d;
  const m = dlen(d);
  if (typeof b === 'string') {
    // other inserts at q: op's delete moves past it, or is cut in two around it.
    if (q <= p) return at(p + codePointLength(b), { d });
    if (q >= p + m) return at(p, { d });
    const cut = q - p;
    const head = { d: dslice(d, 0, cut) };
    const tail = { d: dslice(d, cut) };
    return p === 0 ? [head, codePointLength(b), tail] : [p, head, codePointLength(b), tail];
  }
  // Both delete: op keeps only what other has not deleted already.
  const n = dlen((b as Delete).d);
  if (p + m <= q) return at(p, { d });
  if (p >= q + n) return at(p - n, { d });
  const from = Math.max(p, q) - p; // overlap, relative to op's delete
  const to = Math.min(p + m, q + n) - p;
  if (from === 0 && to === m) return [];
  const rest =
    typeof d === 'number'
      ? m - (to - from)
      : from === 0
        ? dslice(d, to)
        : to === m
          ? dslice(d, 0, from)
          : (dslice(d, 0, from) as string) + (dslice(d, to) as string);
  return at(Math.min(p, q), { d: rest });
}

function transformGeneral(op: TextOp, other: TextOp, side: Side): TextOp {
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

/**
 * Move a caret through `op`. Unlike `transformPosition` (text inserted exactly at the cursor goes after it, right
 * for other people's typing), with `pushedByInsertsAtCaret` an insert at the caret pushes it forward — right for
 * the caret's owner, whose caret is after what they just typed. Presence uses both: the server and the SDK agree.
 */
export function transformCaret(position: number, op: TextOp, pushedByInsertsAtCaret: boolean): number {
  if (!pushedByInsertsAtCaret) return transformPosition(position, op);
  let cursor = position;
  let pos = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      if (cursor <= pos) break;
      pos += c;
    } else if (typeof c === 'string') {
      if (cursor < pos) break;
      const n = codePointLength(c);
      pos += n;
      cursor += n;
    } else {
      if (cursor <= pos) break;
      cursor -= Math.min(dlen(c.d), cursor - pos);
    }
  }
  return cursor;
}
