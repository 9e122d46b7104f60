import assert from 'node:assert/strict';

import { isCollabError } from '@collab/core';

import { decodeHistoryCursor, encodeHistoryCursor } from '../src/cursor.js';
import { lengthDelta } from '../src/op-length.js';

describe('lengthDelta', function () {
  it('counts inserts minus deletes in code points, not UTF-16 units; skips count nothing', function () {
    assert.equal(lengthDelta([3, 'a😀b']), 3);
    assert.equal(lengthDelta([{ d: '👋🏽x' }, 'é']), -3 + 1);
    assert.equal(lengthDelta([5, { d: 4 }, 2, 'xy']), -2);
    assert.equal(lengthDelta([]), 0);
  });
});

describe('history cursor', function () {
  it('round-trips a version and rejects anything else with ERR_INVALID_ARGUMENT', function () {
    assert.equal(decodeHistoryCursor(encodeHistoryCursor(12345)), 12345);
    for (const bad of ['', 'abc', encodeHistoryCursor(0), Buffer.from('h1:1.5').toString('base64url')]) {
      assert.throws(
        () => decodeHistoryCursor(bad),
        (err) => isCollabError(err, 'ERR_INVALID_ARGUMENT'),
        bad,
      );
    }
  });
});
