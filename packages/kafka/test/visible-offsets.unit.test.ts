/**
 * The writer's cheap proof of readability: a delivery past an offset resolves its waiters, a partition no consumer
 * covers is not waited on, and a wait that sees nothing gives up after its time (the writer then asks the leader).
 */
import assert from 'node:assert/strict';
import { VisibleOffsets } from '../src/visible-offsets.js';

describe('VisibleOffsets', () => {
  it('resolves a waiter once a delivery reaches past its offset, not before', async () => {
    const visible = new VisibleOffsets();
    visible.reader().reads([0, 1]);
    let settled: boolean | undefined;
    const waiting = visible.waitFor(0, 10n, 5_000).then((reached) => (settled = reached));
    visible.delivered(0, 9n); // below: the record at 10 is not proven readable
    visible.delivered(1, 50n); // another partition proves nothing about this one
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, undefined);
    visible.delivered(0, 10n);
    assert.equal(await waiting, true);
    assert.equal(visible.has(0, 10n), true);
    assert.equal(visible.has(0, 11n), false);
  });

  it('does not wait for a partition no consumer covers', async () => {
    const visible = new VisibleOffsets();
    const started = Date.now();
    assert.equal(await visible.waitFor(3, 0n, 5_000), false);
    assert.ok(Date.now() - started < 1_000);
    const consumer = visible.reader();
    consumer.reads([3]);
    consumer.reads([]); // revoked again
    assert.equal(visible.covers(3), false);
  });

  it('counts coverage per consumer: one of two consumers losing a partition leaves it covered', () => {
    const visible = new VisibleOffsets();
    const [a, b] = [visible.reader(), visible.reader()];
    a.reads([2, 4]);
    b.reads([2]);
    a.reads([4]);
    a.reads([4]); // said twice: counted once
    assert.equal(visible.covers(2), true);
    b.reads([]);
    assert.equal(visible.covers(2), false);
    assert.equal(visible.covers(4), true);
  });

  it('gives up after its time when nothing is delivered, and forgets the waiter', async () => {
    const visible = new VisibleOffsets();
    visible.reader().reads([0]);
    assert.equal(await visible.waitFor(0, 5n, 20), false);
    visible.delivered(0, 5n); // a late delivery resolves nothing twice (no throw, no leak)
    assert.equal(await visible.waitFor(0, 5n, 20), true);
  });

  it('never moves backwards: an older delivery after a newer one changes nothing', () => {
    const visible = new VisibleOffsets();
    visible.delivered(0, 20n);
    visible.delivered(0, 3n);
    assert.equal(visible.has(0, 20n), true);
  });
});
