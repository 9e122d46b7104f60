/** Token buckets on a virtual clock: the burst, the sustained rate, one bucket per key, forgetting idle keys. */
import assert from 'node:assert/strict';
import { TokenBucket, TokenBuckets } from '../src/index.js';

describe('TokenBucket / TokenBuckets', () => {
  it('grants the burst at once, then one token per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 4, () => now);
    for (let i = 0; i < 4; i++) assert.equal(bucket.take(), 0);
    assert.equal(bucket.take(), 500);
    now += 500;
    assert.equal(bucket.take(), 0);
    assert.equal(bucket.full, false);
    now += 10_000;
    assert.equal(bucket.full, true);
  });

  it('wait() says how long until a token without taking one; spend() takes it when its slot has come', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    assert.equal(bucket.wait(), 0);
    bucket.spend();
    bucket.spend();
    assert.equal(bucket.wait(), 100);
    assert.equal(bucket.wait(), 100, 'waiting takes nothing');
    now += 40;
    assert.equal(Math.round(bucket.wait()), 60);
    now += 60;
    assert.equal(bucket.wait(), 0);
    bucket.spend();
    assert.equal(Math.round(bucket.wait()), 100);
  });

  it('keeps one bucket per key: one principal over its rate does not limit another', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 2, () => now);
    assert.equal(buckets.take('alice'), 0);
    assert.equal(buckets.take('alice'), 0);
    assert.ok(buckets.take('alice') > 0);
    assert.equal(buckets.take('bob'), 0);
    now += 1000;
    assert.equal(buckets.take('alice'), 0);
  });

  it('forgets refilled buckets once it holds many, and never one still limiting its key', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1, () => now, 3);
    buckets.take('busy');
    buckets.take('a');
    buckets.take('b');
    now += 5000; // everyone refilled ...
    buckets.take('busy'); // ... except busy, limited again
    buckets.take('c'); // the fourth key sweeps the refilled ones
    assert.equal(buckets.size, 2);
    assert.ok(buckets.take('busy') > 0, 'busy kept its empty bucket');
  });
});
