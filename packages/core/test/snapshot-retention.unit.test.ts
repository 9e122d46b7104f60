import assert from 'node:assert/strict';
import type { SnapshotMeta } from '../src/index.js';
import { planRetention, type RetentionPolicy } from '../src/index.js';

const DAY = 86_400_000;
const meta = (version: number, createdAt = version): SnapshotMeta => ({ docId: 'd', version, createdAt, size: 1 });
const versions = (metas: SnapshotMeta[]): number[] => metas.map((m) => m.version);

describe('planRetention', function () {
  it('keeps the newest keepLatest, whatever the input order, and returns both lists oldest first', function () {
    const plan = planRetention([meta(30), meta(10), meta(50), meta(20), meta(40)], { keepLatest: 2 });
    assert.deepEqual(versions(plan.keep), [40, 50]);
    assert.deepEqual(versions(plan.drop), [10, 20, 30]);
  });

  it('keepEveryNth keeps the newest snapshot of each span of N versions', function () {
    const metas = [5, 40, 95, 100, 150, 199, 230, 260].map((v) => meta(v));
    const plan = planRetention(metas, { keepLatest: 1, keepEveryNth: 100 });
    // spans: [0,100): 95 · [100,200): 199 · [200,300): 260 (also the latest)
    assert.deepEqual(versions(plan.keep), [95, 199, 260]);
  });

  it('keepDaily keeps the newest snapshot of each of the last D UTC days', function () {
    const now = Date.UTC(2026, 0, 10, 12); // noon, day 10
    const at = (day: number, hour: number) => Date.UTC(2026, 0, day, hour);
    const metas = [
      meta(1, at(6, 10)), // day 6: too old for D = 3
      meta(2, at(8, 9)),
      meta(3, at(8, 20)), // newest of day 8
      meta(4, at(9, 1)), // only one of day 9
      meta(5, at(10, 1)),
      meta(6, at(10, 11)), // newest of day 10 and the latest
    ];
    const plan = planRetention(metas, { keepLatest: 1, keepDaily: 3 }, now);
    assert.deepEqual(versions(plan.keep), [3, 4, 6]);
    assert.deepEqual(versions(plan.drop), [1, 2, 5]);
    assert.ok(now - at(8, 0) < 3 * DAY);
  });

  it('combines rules as a union', function () {
    const metas = [10, 20, 110, 120, 210].map((v) => meta(v, v * DAY));
    const plan = planRetention(metas, { keepLatest: 2, keepEveryNth: 100, keepDaily: 1 }, 210 * DAY + 1);
    assert.deepEqual(versions(plan.keep), [20, 120, 210]);
  });

  it('is idempotent: planning again on what was kept drops nothing (seeded random cases)', function () {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const metas = Array.from({ length: random(30) }, (_, i) => meta(i * 7 + random(7), random(20) * DAY));
      const policy: RetentionPolicy = {
        keepLatest: 1 + random(4),
        ...(random(2) === 0 ? { keepEveryNth: 1 + random(50) } : {}),
        ...(random(2) === 0 ? { keepDaily: 1 + random(10) } : {}),
      };
      const first = planRetention(metas, policy, 20 * DAY);
      const second = planRetention(first.keep, policy, 20 * DAY);
      assert.deepEqual(second.drop, [], `seed round ${round}: ${JSON.stringify(policy)}`);
      assert.equal(first.keep.length + first.drop.length, metas.length);
      if (metas.length > 0) assert.ok(first.keep.length >= Math.min(policy.keepLatest, metas.length));
    }
  });

  it('rejects counts below 1 or not integers', function () {
    for (const bad of [{ keepLatest: 0 }, { keepLatest: 1, keepEveryNth: 0 }, { keepLatest: 1.5 }]) {
      assert.throws(() => planRetention([], bad), { code: 'ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
    }
  });
});
