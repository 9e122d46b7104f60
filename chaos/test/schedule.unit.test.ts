import assert from 'node:assert/strict';
import { seededRandom } from '@collab/core';
import { locksOf, planFaults, type PlannedFault } from '../src/schedule.js';

const OPTIONS = { runMs: 300_000, warmupMs: 20_000, cooldownMs: 60_000, meanGapMs: 8_000, brokers: 3 };

describe('the chaos fault schedule', () => {
  it('is a function of the seed', () => {
    assert.deepEqual(planFaults(seededRandom(7), OPTIONS), planFaults(seededRandom(7), OPTIONS));
    assert.notDeepEqual(planFaults(seededRandom(7), OPTIONS), planFaults(seededRandom(8), OPTIONS));
  });

  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`seed ${seed}: faults overlap, never on the same target, one broker down at a time, all inside the run`, () => {
      const plan = planFaults(seededRandom(seed), OPTIONS);
      assert.ok(plan.length >= 10, `${plan.length} faults in 5 minutes`);
      const ends = (f: PlannedFault) => f.atMs + f.durationMs;
      let overlapping = 0;
      plan.forEach((f, i) => {
        assert.ok(f.atMs >= OPTIONS.warmupMs && ends(f) <= OPTIONS.runMs - OPTIONS.cooldownMs, JSON.stringify(f));
        for (const g of plan.slice(i + 1)) {
          if (g.atMs >= ends(f)) continue;
          overlapping++;
          const shared = locksOf(f).filter((l) => locksOf(g).includes(l));
          assert.deepEqual(shared, [], `${JSON.stringify(f)} and ${JSON.stringify(g)} hold ${shared} at once`);
        }
      });
      assert.ok(overlapping > 0, 'some faults overlap');
      assert.ok(new Set(plan.map((f) => f.kind)).size >= 4, 'several kinds of fault');
    });
  }
});
