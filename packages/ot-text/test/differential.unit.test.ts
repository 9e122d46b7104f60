/**
 * Differential tests: for the same valid inputs, our type and the reference `ot-text-unicode` must give identical
 * results — documents, transformed ops (both sides), composed ops, inverted ops and cursor positions.
 */
import assert from 'node:assert/strict';
import { type as referenceType } from 'ot-text-unicode';
import type { TextOp } from '../src/index.js';
import { type } from '../src/index.js';
import { forEachCase, randInt, randomOp, randomText } from './support/random.js';

// Its declared type omits the invert helpers it has.
const reference = referenceType as typeof referenceType & {
  makeInvertible(op: TextOp, doc: string): TextOp;
  stripInvertible(op: TextOp): TextOp;
  invert(op: TextOp): TextOp;
};
// The reference mutates delete components it merges; hand it copies.
const copy = (op: TextOp): TextOp => structuredClone(op);
const CASES = Number(process.env.OT_DIFF_CASES ?? 5000);

describe('differential: identical to ot-text-unicode', () => {
  it(`apply, transform (both sides), compose, invert, transformPosition agree on ${CASES} random cases`, () => {
    forEachCase(CASES, (rng) => {
      const doc = randomText(rng, randInt(rng, 4) === 0 ? 200 : 12);
      const [a] = randomOp(rng, doc);
      const [b] = randomOp(rng, doc);
      const ours = type.create(doc);

      assert.equal(type.apply(ours, a).toString(), reference.apply(doc, copy(a)), 'apply');

      for (const side of ['left', 'right'] as const) {
        assert.deepEqual(type.transform(a, b, side), reference.transform(copy(a), copy(b), side), `transform ${side}`);
      }

      const afterA = reference.apply(doc, copy(a));
      const [c] = randomOp(rng, afterA);
      assert.deepEqual(type.compose(a, c), reference.compose(copy(a), copy(c)), 'compose');

      const invertible = type.makeInvertible(a, ours);
      assert.deepEqual(invertible, reference.makeInvertible(copy(a), doc), 'makeInvertible');
      assert.deepEqual(type.invert(invertible), reference.invert(copy(invertible)), 'invert');
      assert.deepEqual(
        type.stripInvertible(invertible),
        reference.stripInvertible(copy(invertible)),
        'stripInvertible',
      );

      const cursor = randInt(rng, Array.from(doc).length + 1);
      assert.equal(
        type.transformPosition(cursor, a),
        reference.transformPosition(cursor, copy(a)),
        'transformPosition',
      );
      const sel: [number, number] = [cursor, randInt(rng, Array.from(doc).length + 1)];
      assert.deepEqual(
        type.transformSelection(sel, a),
        reference.transformSelection(sel, copy(a)),
        'transformSelection',
      );
    });
  });

  it('normalize agrees on denormalized ops (split components, empty ones, trailing skips)', () => {
    forEachCase(2000, (rng) => {
      const doc = randomText(rng, 30);
      const [op] = randomOp(rng, doc);
      const messy: TextOp = [];
      for (const c of op) {
        if (typeof c === 'number' && c > 1 && randInt(rng, 2)) messy.push(1, c - 1);
        else if (typeof c === 'string' && c.length > 2 && !/[\ud800-\udfff]/.test(c) && randInt(rng, 2))
          messy.push(c.slice(0, 1), c.slice(1));
        else messy.push(typeof c === 'object' ? { ...c } : c);
        if (randInt(rng, 4) === 0) messy.push(randInt(rng, 2) ? 0 : '');
      }
      if (randInt(rng, 2)) messy.push(3);
      assert.deepEqual(type.normalize(messy), reference.normalize(copy(messy)));
    });
  });
});
