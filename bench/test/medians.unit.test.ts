import assert from 'node:assert/strict';
import { median } from '../src/medians.js';

describe('bench:load-medians', () => {
  it('takes the middle run, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.equal(median([]), null);
  });
});
