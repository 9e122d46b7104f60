/** Cutting ops to the server's limits: each part fits, and applying the parts in order does what the op does. */
import assert from 'node:assert/strict';
import type { TextOp } from '@collab/ot-text';
import { isWellFormed, type } from '@collab/ot-text';
import type { OpBudget } from '../src/index.js';
import { budgetFromLimits, splitOp } from '../src/index.js';
import { fitsBudget, insertedLength, jsonStringBytes, opBytes } from '../src/op-budget.js';
import { Rng } from '../src/testing/index.js';
import { fuzzSeed } from './support/fuzz-seed.js';

const ALPHABET = ['a', 'b', '😀', '\n', '"', 'é', '中', '\u0001', '🎉'];

function randomText(rng: Rng, max: number): string {
  let s = '';
  for (let i = 1 + rng.int(max); i > 0; i--) s += rng.pick(ALPHABET);
  return s;
}

function randomOp(rng: Rng, doc: string): TextOp {
  const op: TextOp = [];
  const length = [...doc].length;
  let pos = 0;
  while (pos < length || rng.chance(0.3)) {
    const r = rng.next();
    if (r < 0.4 && pos < length) {
      const n = 1 + rng.int(length - pos);
      op.push(n);
      pos += n;
    } else if (r < 0.7) {
      op.push(randomText(rng, 60));
    } else if (pos < length) {
      const n = 1 + rng.int(Math.min(5, length - pos));
      op.push({ d: n });
      pos += n;
    }
    if (rng.chance(0.2)) break;
  }
  return type.normalize(op);
}

describe('op budget', () => {
  it('measures JSON bytes exactly as JSON.stringify + UTF-8 would', () => {
    for (const s of ['', 'abc', '😀', '"\\', '\n\t\u0001', 'é中🎉']) {
      assert.equal(jsonStringBytes(s), new TextEncoder().encode(JSON.stringify(s)).length, JSON.stringify(s));
    }
    const op: TextOp = [12, 'a"😀', { d: 3 }, 'x', { d: 'ab' }];
    assert.equal(opBytes(op), new TextEncoder().encode(JSON.stringify(op)).length);
  });

  it('leaves an op that fits alone', () => {
    const op: TextOp = [3, 'abc'];
    assert.deepEqual(splitOp(op, budgetFromLimits({ maxOpInsertLength: 10, maxFrameBytes: 4096 })), [op]);
  });

  it('cuts a paste with an emoji at the cut point between code points, never between surrogates', () => {
    const budget: OpBudget = { maxInsert: 3, maxBytes: 10_000, maxComponents: 100 };
    const parts = splitOp([2, 'ab😀cd'], budget);
    assert.deepEqual(parts, [
      [2, 'ab😀'],
      [5, 'cd'],
    ]);
  });

  it('cuts by bytes too: emoji cost 4 bytes each in the frame', () => {
    const budget: OpBudget = { maxInsert: 1000, maxBytes: 40, maxComponents: 100 };
    const parts = splitOp(['😀'.repeat(30)], budget);
    assert.ok(parts.length > 1);
    for (const part of parts) assert.ok(opBytes(part) <= 40, JSON.stringify(part));
  });

  it('random ops under random budgets: every part fits, and the parts in order equal the op (seeded)', () => {
    const seed = fuzzSeed();
    const rng = new Rng(seed);
    for (let i = 0; i < 2000; i++) {
      const doc = randomText(rng, 40);
      const op = randomOp(rng, doc);
      const budget: OpBudget = {
        maxInsert: 1 + rng.int(20),
        maxBytes: 60 + rng.int(200),
        maxComponents: 4 + rng.int(10),
      };
      const parts = splitOp(op, budget);
      let result = type.create(doc);
      for (const part of parts) {
        assert.ok(
          fitsBudget(part, budget),
          `seed ${seed}: part ${JSON.stringify(part)} breaks ${JSON.stringify(budget)}`,
        );
        for (const c of part) if (typeof c === 'string') assert.ok(isWellFormed(c), `seed ${seed}: split a pair`);
        result = type.apply(result, part);
      }
      assert.equal(result.toString(), type.apply(doc, op).toString(), `seed ${seed}: ${JSON.stringify(op)}`);
      assert.equal(
        parts.reduce((n, p) => n + insertedLength(p), 0),
        insertedLength(op),
      );
    }
  });
});
