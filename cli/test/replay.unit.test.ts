/** The replay's plan (flags per mode) and its comparison of read models. */
import assert from 'node:assert/strict';
import type { DocHead, OpCommitted } from '@collab/core';
import { diffHeads, diffOps } from '../src/replay/compare.js';
import { planReplay } from '../src/replay/plan.js';

const defaults = { outFile: '/data/replay.db', liveKeyspace: 'collab' };
const head = (version: number, extra: Partial<DocHead> = {}): DocHead => ({
  docId: 'd',
  version,
  length: version,
  lastUserId: 'u',
  updatedAt: 1000 + version,
  ...extra,
});
const op = (version: number, text = 'x'): OpCommitted => ({
  docId: 'd',
  version,
  op: [version - 1, text].filter((c) => c !== 0) as OpCommitted['op'],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp: version,
});

describe('replay', () => {
  it('embedded: a fresh file by default, --out, or --in-place; misuse listed all at once', () => {
    assert.deepEqual(planReplay('embedded', {}, defaults), {
      plan: { mode: 'embedded', target: { kind: 'file', path: '/data/replay.db' } },
    });
    assert.deepEqual(planReplay('embedded', { inPlace: true, compareWith: 'x.db' }, defaults), {
      plan: { mode: 'embedded', target: { kind: 'in-place' }, compareWith: 'x.db' },
    });
    const bad = planReplay('embedded', { inPlace: true, out: 'a.db', from: '5', keyspace: 'k' }, defaults);
    assert.equal((bad as { problems: string[] }).problems.length, 3);
  });

  it('distributed: a new --keyspace, compared with the live keyspace by default', () => {
    assert.deepEqual(planReplay('distributed', { keyspace: 'rebuilt_1' }, defaults), {
      plan: { mode: 'distributed', keyspace: 'rebuilt_1', compareWith: 'collab' },
    });
    const bad = planReplay('distributed', { inPlace: true, out: 'a.db' }, defaults) as { problems: string[] };
    assert.deepEqual(
      bad.problems.map((p) => p.split(':')[0]),
      ['--in-place', '--out', '--keyspace'],
    );
    assert.match(
      (planReplay('distributed', { keyspace: 'collab' }, defaults) as { problems: string[] }).problems[0]!,
      /--compare-with: must differ/,
    );
  });

  it('heads: equal, missing on either side, or which fields differ', () => {
    assert.equal(diffHeads(head(3), head(3)), undefined);
    assert.equal(diffHeads(undefined, undefined), undefined);
    assert.match(diffHeads(head(3), undefined)!, /missing from the rebuilt read models \(live version 3\)/);
    assert.match(diffHeads(undefined, head(2))!, /only in the rebuilt/);
    assert.equal(
      diffHeads(head(3), head(3, { length: 9, lastUserId: 'v' })),
      'head differs: length live 3, rebuilt 9; lastUserId live u, rebuilt v',
    );
  });

  it('op rows: the first version that differs or is missing', () => {
    assert.equal(diffOps([op(1), op(2)], [op(1), op(2)]), undefined);
    assert.equal(diffOps([op(1), op(2)], [op(1), op(2, 'y')]), 'op rows differ at version 2');
    assert.equal(diffOps([op(1), op(2)], [op(1)]), 'op rows differ at version 2 (not rebuilt)');
  });
});
