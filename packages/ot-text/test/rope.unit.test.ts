import assert from 'node:assert/strict';
import { Doc } from '../src/index.js';
import { checkRope, MAX_LEAF } from '../src/rope.js';
import { codePoints, forEachCase, randInt, randomText } from './support/random.js';

describe('rope (persistent B+tree of text chunks)', () => {
  it('matches a code-point array model under random splices, keeps its shape, and never changes old versions', () => {
    forEachCase(60, (rng) => {
      const model = codePoints(randomText(rng, randInt(rng, 3) === 0 ? 6000 : 40));
      let doc = Doc.fromString(model.join(''));
      const versions: Array<[Doc, string]> = [];
      for (let step = 0; step < 150; step++) {
        const pos = randInt(rng, model.length + 1);
        const del = randInt(rng, 3) === 0 ? randInt(rng, Math.min(model.length - pos, 3000) + 1) : 0;
        const big = randInt(rng, 20) === 0;
        const ins = big ? randomText(rng, 3 * MAX_LEAF) : randomText(rng, 5);
        doc = doc.splice(pos, del, ins);
        model.splice(pos, del, ...codePoints(ins));
        if (step % 10 === 0) versions.push([doc, model.join('')]);
        assert.equal(doc.length, model.length);
      }
      assert.equal(doc.toString(), model.join(''));
      assert.deepEqual(checkRope(doc.root), []);
      for (const [old, text] of versions) assert.equal(old.toString(), text, 'an old version changed');
    });
  });

  it('deleting everything, piece by piece, leaves a healthy empty document', () => {
    const text = 'x'.repeat(50_000) + '😀'.repeat(10_000);
    let doc = Doc.fromString(text);
    while (doc.length > 0) {
      const pos = Math.floor(doc.length / 3);
      doc = doc.splice(pos, Math.min(777, doc.length - pos));
      assert.deepEqual(checkRope(doc.root), []);
    }
    assert.equal(doc.toString(), '');
  });

  it('slices by code points and converts positions to and from UTF-16 offsets', () => {
    forEachCase(200, (rng) => {
      const text = randomText(rng, randInt(rng, 2) ? 3000 : 20);
      const doc = Doc.fromString(text);
      const cps = codePoints(text);
      const a = randInt(rng, cps.length + 1);
      const b = a + randInt(rng, cps.length - a + 1);
      assert.equal(doc.slice(a, b), cps.slice(a, b).join(''));
      const units = cps.slice(0, a).join('').length;
      assert.equal(doc.codePointToUtf16(a), units);
      assert.equal(doc.utf16ToCodePoint(units), a);
      assert.equal(doc.utf16Length, text.length);
    });
  });

  it('rejects a splice outside the document', () => {
    assert.throws(() => Doc.fromString('abc').splice(2, 2), /Cannot replace 2 code points at 2/);
  });

  it('never splits a surrogate pair between two chunks', () => {
    const doc = Doc.fromString('a' + '😀'.repeat(5000));
    assert.deepEqual(checkRope(doc.root), []);
    assert.equal(doc.length, 5001);
    assert.equal(doc.slice(1, 3), '😀😀');
  });
});
