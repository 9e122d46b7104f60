/**
 * Comment anchors (anchor.ts): the rules as a table, then a seeded property over random ops — every character of
 * the range that survives stays inside it, no character outside it gets in, and a range whose characters are all
 * gone is a detached point.
 */
import assert from 'node:assert/strict';
import type { Anchor, TextOp } from '../src/index.js';
import { OtError, transformAnchor, transformAnchorThrough } from '../src/index.js';
import { forEachCase, randInt, randomOp, randomText } from './support/random.js';

describe('comment anchors', () => {
  // The text is "0123456789"; the anchor covers "345" ([3, 6)).
  const range: Anchor = { start: 3, end: 6 };
  const table: [string, TextOp, Anchor][] = [
    ['an insert before it shifts it', [1, 'ab'], { start: 5, end: 8 }],
    ['an insert after it leaves it', [8, 'ab'], { start: 3, end: 6 }],
    ['an insert inside it joins it', [4, 'ab'], { start: 3, end: 8 }],
    ['an insert at its start stays outside (before)', [3, 'ab'], { start: 5, end: 8 }],
    ['an insert at its end stays outside (after)', [6, 'ab'], { start: 3, end: 6 }],
    ['a delete inside it shrinks it', [4, { d: 1 }], { start: 3, end: 5 }],
    ['a delete over its start keeps the rest', [2, { d: 2 }], { start: 2, end: 4 }],
    ['a delete over its end keeps the rest', [5, { d: 3 }], { start: 3, end: 5 }],
    ['a delete before it shifts it', [{ d: 2 }], { start: 1, end: 4 }],
    ['a delete of exactly its text detaches it', [3, { d: 3 }], { start: 3, end: 3, detached: true }],
    ['a delete around it detaches it', [1, { d: 8 }], { start: 1, end: 1, detached: true }],
    [
      'its text replaced in one op: detached, after the new text',
      [3, 'xy', { d: 3 }],
      { start: 5, end: 5, detached: true },
    ],
  ];
  for (const [name, op, expected] of table) {
    it(name, () => assert.deepEqual(transformAnchor(range, op), expected));
  }

  it('a point (an empty range) moves like a caret: text typed at it goes before it', () => {
    assert.deepEqual(transformAnchor({ start: 3, end: 3 }, [3, 'ab']), { start: 5, end: 5 });
    assert.deepEqual(transformAnchor({ start: 3, end: 3 }, [1, { d: 4 }]), { start: 1, end: 1 });
  });

  it('a detached anchor stays a detached point, even when text is typed at it', () => {
    const detached = transformAnchorThrough(range, [
      [3, { d: 3 }],
      [3, 'new'],
    ]);
    assert.deepEqual(detached, { start: 6, end: 6, detached: true });
  });

  it('refuses a reversed, negative or fractional range with ERR_ANCHOR_INVALID', () => {
    for (const bad of [
      { start: 4, end: 2 },
      { start: -1, end: 2 },
      { start: 0.5, end: 2 },
    ]) {
      assert.throws(
        () => transformAnchor(bad, [1, 'a']),
        (err: unknown) => err instanceof OtError && err.code === 'ERR_ANCHOR_INVALID',
      );
    }
  });

  /**
   * Each code point is a token marked in (the range) or out; the op is applied to the tokens as it is to the text,
   * so where every original character went is known. An inserted token is in when it was typed strictly inside the
   * range as it was before the op (the boundary rule), out otherwise.
   */
  type Mark = 'in' | 'out';
  function applyToMarks(marks: Mark[], op: TextOp, before: Anchor): Mark[] {
    const out: Mark[] = [];
    let i = 0;
    for (const c of op) {
      if (typeof c === 'number') {
        out.push(...marks.slice(i, i + c));
        i += c;
      } else if (typeof c === 'string') {
        const joins = before.start < i && i < before.end;
        out.push(...Array.from(c, (): Mark => (joins ? 'in' : 'out')));
      } else {
        i += typeof c.d === 'number' ? c.d : Array.from(c.d).length;
      }
    }
    return [...out, ...marks.slice(i)];
  }

  it('property: the range is exactly its surviving characters and what was typed strictly inside it', () => {
    forEachCase(5000, (rng) => {
      const doc = randomText(rng, 30);
      const length = Array.from(doc).length;
      const start = randInt(rng, length + 1);
      const end = start + randInt(rng, length - start + 1);
      let marks: Mark[] = Array.from(doc, (_, k): Mark => (k >= start && k < end ? 'in' : 'out'));
      let anchor: Anchor = { start, end };
      let text = doc;
      for (let step = 0; step < 4; step++) {
        const [op, next] = randomOp(rng, text);
        marks = applyToMarks(marks, op, anchor);
        anchor = transformAnchor(anchor, op);
        text = next;
        const firstIn = marks.indexOf('in');
        const lastIn = marks.lastIndexOf('in');
        const where = JSON.stringify({ anchor, marks: marks.map((m) => m[0]).join(''), op });
        assert.ok(anchor.end <= Array.from(text).length, `within the text: ${where}`);
        if (firstIn === -1) {
          assert.equal(anchor.start, anchor.end, `nothing left: a point: ${where}`);
          assert.equal(anchor.detached === true, start !== end, `detached exactly when it had text: ${where}`);
        } else {
          assert.deepEqual([anchor.start, anchor.end], [firstIn, lastIn + 1], where);
          assert.ok(!marks.slice(firstIn, lastIn + 1).includes('out'), `no outside character inside: ${where}`);
        }
      }
    });
  });
});
