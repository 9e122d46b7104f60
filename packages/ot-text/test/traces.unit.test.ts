/**
 * Real editing traces (CC BY 4.0, josephg/editing-traces; authors in ../shared/traces/CREDITS.md). They live
 * beside the repository; outside CI their absence skips these tests loudly, in CI it fails them.
 */
import assert from 'node:assert/strict';
import { type } from '../src/index.js';
import { replayConcurrent } from './support/replay-concurrent.js';
import type { ConcurrentTrace, SequentialTrace } from './support/traces.js';
import { listSequentialTraces, loadTrace, MISSING_TRACES_MESSAGE, patchToOp, tracesDir } from './support/traces.js';

const dir = tracesDir();

describe('editing traces', function () {
  before(function () {
    if (dir !== undefined) return;
    if (process.env.CI === 'true') throw new Error(`${MISSING_TRACES_MESSAGE} (required in CI)`);
    console.warn(`\n  ⚠️  SKIPPED: ${MISSING_TRACES_MESSAGE}\n`);
    this.skip();
  });

  const names = dir === undefined ? [] : listSequentialTraces(dir);
  if (dir !== undefined) {
    it('finds the sequential traces', () => assert.ok(names.length >= 5, `only ${names.length} traces`));
  }
  for (const name of names) {
    it(`sequential ${name}: every patch applied through the type reaches endContent`, () => {
      const trace = loadTrace<SequentialTrace>(dir!, 'sequential_traces', name);
      let doc = type.create(trace.startContent);
      for (const txn of trace.txns) for (const patch of txn.patches) doc = type.apply(doc, patchToOp(patch));
      assert.ok(doc.toString() === trace.endContent, `${name}: final text differs from endContent`);
    });
  }

  for (const name of ['friendsforever', 'clownschool']) {
    it(`concurrent ${name}: central-server replay brings the server and every client to endContent`, () => {
      const trace = loadTrace<ConcurrentTrace>(dir!, 'concurrent_traces', name);
      const result = replayConcurrent(trace);
      assert.ok(result.server === trace.endContent, 'server text differs from endContent');
      result.clients.forEach((text, i) => assert.ok(text === trace.endContent, `client ${i} differs from endContent`));
    });
  }
});
