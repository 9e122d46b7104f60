/**
 * Seeded property tests of the OT laws the pipeline relies on.
 */
import assert from 'node:assert/strict';
import type { TextOp } from '../src/index.js';
import { type } from '../src/index.js';
import { forEachCase, randInt, randomOp, randomText } from './support/random.js';

const apply = (doc: string, op: TextOp): string => type.apply(type.create(doc), op).toString();

describe('OT properties (seeded)', () => {
  it('TP1 (convergence): a·T(b,a) = b·T(a,b) for both tie-break assignments', () => {
    forEachCase(5000, (rng) => {
      const doc = randomText(rng, randInt(rng, 3) === 0 ? 100 : 10);
      const [a] = randomOp(rng, doc);
      const [b] = randomOp(rng, doc);
      for (const side of ['left', 'right'] as const) {
        const other = side === 'left' ? 'right' : 'left';
        assert.equal(
          apply(apply(doc, a), type.transform(b, a, side)),
          apply(apply(doc, b), type.transform(a, b, other)),
        );
      }
    });
  });

  it('compose: applying a∘b equals applying a then b', () => {
    forEachCase(3000, (rng) => {
      const doc = randomText(rng, 40);
      const [a, mid] = randomOp(rng, doc);
      const [b, end] = randomOp(rng, mid);
      assert.equal(apply(doc, type.compose(a, b)), end);
    });
  });

  it('invert round trip: doc·a·invert(a) = doc, also through transform and compose', () => {
    forEachCase(3000, (rng) => {
      const doc = randomText(rng, 40);
      const [a, afterA] = randomOp(rng, doc);
      const inv = type.invert(type.makeInvertible(a, doc));
      assert.equal(apply(afterA, inv), doc);
      // Two concurrent edits merged into one op (as a client composing pending work) invert as a whole.
      const [b] = randomOp(rng, doc);
      const [c] = randomOp(rng, doc);
      const merged = type.makeInvertible(type.compose(c, type.transform(b, c, 'left')), doc);
      assert.equal(apply(apply(doc, merged), type.invert(merged)), doc);
    });
  });

  it('transformPosition stays within the document and keeps order of two cursors', () => {
    forEachCase(3000, (rng) => {
      const doc = randomText(rng, 40);
      const [a, after] = randomOp(rng, doc);
      const len = Array.from(doc).length;
      const x = randInt(rng, len + 1);
      const y = x + randInt(rng, len - x + 1);
      const x2 = type.transformPosition(x, a);
      const y2 = type.transformPosition(y, a);
      assert.ok(x2 >= 0 && y2 <= Array.from(after).length && x2 <= y2, `${x}->${x2}, ${y}->${y2}`);
    });
  });
});
