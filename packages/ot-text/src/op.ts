/**
 * The text-unicode op format (the ottypes format, unchanged so ops interoperate with ShareDB and ot-text-unicode).
 *
 * An op is a list of components walked over the document from its start:
 *
 * - a positive integer N      skip N code points (keep them);
 * - a non-empty string "str"  insert "str" here;
 * - {d: N}                    delete N code points here;
 * - {d: "str"}                delete "str" here — same effect as {d: N} with N its code point length, but it
 *                             carries the deleted text, so the op can be inverted (undo).
 *
 * Example: on "hello world", [6, {d: 5}, "there"] gives "hello there".
 *
 * A normalized op never ends with a skip, never has two adjacent components of the same kind, and has no empty
 * components. All positions and counts are Unicode code points, never UTF-16 units.
 */
import { OtError } from './errors.js';
import { codePointLength, isWellFormed, sliceCodePoints } from './unicode.js';

export type Delete = { d: number | string };
export type TextOpComponent = number | string | Delete;
export type TextOp = TextOpComponent[];

/** Length in code points of a delete's payload. */
export const dlen = (d: number | string): number => (typeof d === 'number' ? d : codePointLength(d));

/** Length in code points a component covers (inserts: what they add; skips and deletes: what they consume). */
export const componentLength = (c: TextOpComponent): number =>
  typeof c === 'number' ? c : typeof c === 'string' ? codePointLength(c) : dlen(c.d);

/**
 * A short rendering of a bad component for an error message. Never throws: a component can be anything a client
 * sent, e.g. an array nested 100,000 deep, on which JSON.stringify and String() both overflow the stack.
 */
const describe = (c: unknown): string => {
  try {
    const s = JSON.stringify(c);
    return s === undefined ? String(c) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
  } catch {
    return Array.isArray(c) ? 'an array nested too deep to show' : typeof c === 'object' ? 'an object' : typeof c;
  }
};

const KIND_NAMES = ['', 'skip', 'insert', 'delete'] as const;

/**
 * True when `c` is a plain `{d}` object: an object, not an array, with `d` and exactly one own enumerable key.
 * The common case (an object whose only enumerable key is its own `d`) is decided without allocating; anything
 * else falls back to the full `Object.keys` rule, so exactly the same objects are accepted.
 */
function isDeleteShape(c: object): boolean {
  if (Array.isArray(c)) return false;
  let keys = 0;
  for (const k in c) {
    if (k !== 'd' || ++keys > 1) {
      keys = -1;
      break;
    }
  }
  if (keys === 1 && Object.hasOwn(c, 'd')) return true;
  return 'd' in c && Object.keys(c).length === 1;
}

/**
 * Throw an OtError unless `op` is a well-formed, normalized op. Stricter than the reference's checkOp: it also
 * rejects non-integer counts, unpaired surrogates, unknown keys and adjacent components of the same kind, because
 * every op a client sends passes through here and must have exactly one meaning.
 */
export function checkOp(op: unknown): asserts op is TextOp {
  if (!Array.isArray(op)) throw new OtError('ERR_OP_NOT_ARRAY', 'An op must be an array of components.');
  // Kind of the previous component: 0 none, 1 skip, 2 insert, 3 delete.
  let lastKind = 0;
  for (let i = 0; i < op.length; i++) {
    const c: unknown = op[i];
    let kind: number;
    if (typeof c === 'number') {
      if (!Number.isSafeInteger(c) || c <= 0) {
        throw new OtError(
          'ERR_OP_SKIP_INVALID',
          `Component ${i} is a skip of ${describe(c)}; skips must be positive integers.`,
          i,
        );
      }
      kind = 1;
    } else if (typeof c === 'string') {
      if (c.length === 0) throw new OtError('ERR_OP_INSERT_EMPTY', `Component ${i} inserts an empty string.`, i);
      if (!isWellFormed(c)) {
        throw new OtError(
          'ERR_OP_INSERT_INVALID_UNICODE',
          `Component ${i} inserts text with an unpaired surrogate.`,
          i,
        );
      }
      kind = 2;
    } else if (typeof c === 'object' && c !== null && isDeleteShape(c)) {
      const d: unknown = (c as { d: unknown }).d;
      const ok =
        typeof d === 'number'
          ? Number.isSafeInteger(d) && d > 0
          : typeof d === 'string' && d.length > 0 && isWellFormed(d);
      if (!ok) {
        throw new OtError(
          'ERR_OP_DELETE_INVALID',
          `Component ${i} is a delete of ${describe(d)}; a delete must be a positive integer count or the non-empty deleted text.`,
          i,
        );
      }
      kind = 3;
    } else {
      throw new OtError(
        'ERR_OP_COMPONENT_TYPE',
        `Component ${i} (${describe(c)}) is not a skip (number), an insert (string) or a delete ({d}).`,
        i,
      );
    }
    if (kind === lastKind) {
      throw new OtError(
        'ERR_OP_NOT_NORMALIZED',
        `Components ${i - 1} and ${i} are both ${KIND_NAMES[kind]}s; adjacent components of one kind must be merged.`,
        i,
      );
    }
    lastKind = kind;
  }
  if (lastKind === 1) {
    throw new OtError(
      'ERR_OP_TRAILING_SKIP',
      `The op ends with a skip (component ${op.length - 1}); drop it.`,
      op.length - 1,
    );
  }
}

/** True for the components that `append` drops: zero skips, empty inserts, empty deletes. */
const isEmptyComponent = (c: TextOpComponent | null | undefined): boolean =>
  c === null || c === undefined || c === 0 || c === '' || (typeof c === 'object' && (c.d === 0 || c.d === ''));

/**
 * Append a component to an op under construction, merging it into the last component when they are of the same
 * kind. Merged deletes keep their text only when both carry text (as the reference does).
 */
export function append(op: TextOp, c: TextOpComponent | null | undefined): void {
  if (isEmptyComponent(c)) return;
  const comp = c as TextOpComponent;
  const lastIndex = op.length - 1;
  const last = op[lastIndex];
  if (last === undefined || typeof last !== typeof comp) {
    op.push(typeof comp === 'object' ? { d: comp.d } : comp);
  } else if (typeof last === 'object') {
    const d = (comp as Delete).d;
    op[lastIndex] = { d: typeof last.d === 'string' && typeof d === 'string' ? last.d + d : dlen(last.d) + dlen(d) };
  } else {
    op[lastIndex] = (last as never) + (comp as never);
  }
}

/** Drop a trailing skip (an op built with `append` has at most one). */
export function trim(op: TextOp): TextOp {
  if (op.length > 0 && typeof op[op.length - 1] === 'number') op.pop();
  return op;
}

/** Call `fn` for each component with its position in the document before (`pre`) and after (`post`) the op. */
export function eachComponent(op: TextOp, fn: (c: TextOpComponent, pre: number, post: number) => void): void {
  let pre = 0;
  let post = 0;
  for (const c of op) {
    fn(c, pre, post);
    if (typeof c === 'number') {
      pre += c;
      post += c;
    } else if (typeof c === 'string') {
      post += codePointLength(c);
    } else {
      pre += dlen(c.d);
    }
  }
}

/** Rebuild `op` through `fn` and `append`, so the result is normalized. */
export function mapOp(op: TextOp, fn: (c: TextOpComponent, pre: number, post: number) => TextOpComponent): TextOp {
  const out: TextOp = [];
  eachComponent(op, (c, pre, post) => append(out, fn(c, pre, post)));
  return trim(out);
}

/** Merge adjacent components, drop empty ones and a trailing skip. Does not validate. */
export const normalize = (op: TextOp): TextOp => mapOp(op, (c) => c);

/** Slice a delete payload by code points: a count stays a count, text stays text. */
export const dslice = (d: number | string, start: number, end?: number): number | string =>
  typeof d === 'number' ? (end === undefined ? d : Math.min(d, end)) - start : sliceCodePoints(d, start, end);

/** Build an op that inserts `text` at code point `pos`. */
export const insertOp = (pos: number, text: string): TextOp =>
  text.length === 0 ? [] : pos === 0 ? [text] : [pos, text];

/** Build an op that deletes `textOrCount` at code point `pos`. */
export const removeOp = (pos: number, textOrCount: number | string): TextOp =>
  dlen(textOrCount) === 0 ? [] : pos === 0 ? [{ d: textOrCount }] : [pos, { d: textOrCount }];
