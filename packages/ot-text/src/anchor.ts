/**
 * A comment's anchor: a range [start, end) of code points that moves with the text through every op, the same
 * way wherever it is computed (server, every client, a replay), because it is a pure function of the ops in the
 * order the server committed them.
 *
 * The rules (docs/ot.md, "Anchors"):
 * - Text inserted strictly inside the range joins it; text inserted exactly at either boundary stays outside —
 *   before `start`, after `end` — so typing right after a commented word does not extend the comment. "Inside"
 *   and "at" are judged on the text the op applies to (an op that deletes the range's end and types there in
 *   one go extends it: the typing was strictly inside).
 * - Deleted text leaves the range; the rest of the range stays.
 * - A range whose text is wholly deleted collapses to a point and stays there (`detached`): the thread is kept
 *   and shown detached. A collapsed range never grows again: text later inserted at its point goes before it.
 * - An empty range at creation is a point from the start (a comment on a place, not on words).
 */
import { OtError } from './errors.js';
import type { TextOp } from './op.js';
import { dlen } from './op.js';
import { transformCaret } from './transform.js';
import { codePointLength } from './unicode.js';

export interface Anchor {
  /** Code points, start ≤ end. */
  start: number;
  end: number;
  /** The range's text was wholly deleted at some version: it is a point now, and stays one. */
  detached?: boolean;
}

/** Refuses what cannot be an anchor: negative, fractional or reversed positions. */
export function checkAnchor(anchor: Anchor): void {
  const { start, end } = anchor;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new OtError(
      'ERR_ANCHOR_INVALID',
      `An anchor is a range of code points with 0 ≤ start ≤ end, not [${start}, ${end}).`,
    );
  }
}

/**
 * The anchor after `op` (which applies to the text the anchor refers to). Every code point after the op is an
 * original one that survived or an inserted one; the range is the span of those that belong to it — the
 * surviving originals of [start, end), and the text inserted strictly between start and end as they were before
 * the op. They are always contiguous. With none, the anchor is a point (`detached` when it had text).
 */
export function transformAnchor(anchor: Anchor, op: TextOp): Anchor {
  checkAnchor(anchor);
  const { start, end } = anchor;
  let before = 0; // position in the text the op applies to
  let after = 0; // the same place in the text it makes
  let first = -1;
  let last = -1;
  const keep = (count: number) => {
    // `count` originals survive from `before` on: those inside [start, end) stay in the range.
    const from = Math.max(before, start);
    const to = Math.min(before + count, end);
    if (from < to) {
      if (first < 0) first = after + (from - before);
      last = after + (to - before);
    }
    before += count;
    after += count;
  };
  for (const c of op) {
    if (typeof c === 'number') keep(c);
    else if (typeof c === 'string') {
      const n = codePointLength(c);
      if (start < before && before < end) {
        if (first < 0) first = after;
        last = after + n;
      }
      after += n;
    } else before += dlen(c.d);
  }
  if (end > before) keep(end - before); // the op's implicit trailing skip
  if (first >= 0) return { start: first, end: last };
  // Nothing of the range is left, or it was a point: a point that text typed at it pushes forward.
  const at = transformCaret(start, op, true);
  return start === end && anchor.detached !== true ? { start: at, end: at } : { start: at, end: at, detached: true };
}

/** The anchor after each op in turn. */
export function transformAnchorThrough(anchor: Anchor, ops: readonly TextOp[]): Anchor {
  let current = anchor;
  for (const op of ops) current = transformAnchor(current, op);
  return current;
}
