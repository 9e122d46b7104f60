/** bestEffort: a failure is dropped (or handed to onError), a success passes, nothing waits longer than the call. */
import assert from 'node:assert/strict';
import { bestEffort } from '../src/index.js';

describe('bestEffort', () => {
  it('resolves when the call fails, handing the error to onError when given', async () => {
    const boom = new Error('already closed');
    await bestEffort(Promise.reject(boom));
    const seen: unknown[] = [];
    await bestEffort(Promise.reject(boom), (err) => seen.push(err));
    assert.deepEqual(seen, [boom]);
  });

  it('waits for the call and resolves to nothing when it succeeds; accepts no call at all', async () => {
    let done = false;
    await bestEffort(Promise.resolve().then(() => (done = true)));
    assert.equal(done, true);
    assert.equal(await bestEffort(undefined), undefined);
  });
});
