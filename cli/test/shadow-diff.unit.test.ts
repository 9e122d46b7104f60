/**
 * The shadow replay's report on two real read-model stores (SQLite files): the same documents, a side that moved
 * on, a different text at the shared version, documents on one side only, and a side whose op rows have a gap;
 * the hashes are the protocol's state hash of the text (checked with its plain-JavaScript SHA-256). And the
 * replay plan's --shadow / --fail-on-diff rules.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage, type SqliteStorage } from '@collab/adapter-sqlite';
import type { ReadModelStore } from '@collab/core';
import { stateHash } from '@collab/protocol';
import { planReplay } from '../src/replay/plan.js';
import { describeShadowDocument, diffShadow } from '../src/replay/shadow-diff.js';
import { appendingOp } from './support/distributed.js';

const op = (docId: string, version: number, text = 'y') => appendingOp(docId, version, 1_000 + version, text);
const history = (docId: string, versions: number, changed?: { version: number; text: string }) =>
  Array.from({ length: versions }, (_, i) => op(docId, i + 1, changed?.version === i + 1 ? changed.text : 'y'));

describe('shadow replay report', () => {
  let dir: string;
  let live: SqliteStorage;
  let shadow: SqliteStorage;
  const side = (storage: SqliteStorage, store: ReadModelStore = storage.readModels) => ({
    store,
    docIds: storage.database.prepare('SELECT doc_id FROM rm_heads').pluck().all() as string[],
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collab-shadow-'));
    live = await createSqliteStorage({ path: join(dir, 'live.db'), partitionCount: 2 });
    shadow = await createSqliteStorage({ path: join(dir, 'shadow.db'), partitionCount: 2 });
  });
  afterEach(async () => {
    await live.close();
    await shadow.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds no difference between equal read models; hashes are the state hash of the text', async () => {
    for (const s of [live, shadow]) await s.readModels.writeOps([...history('a', 5), ...history('b', 3)]);
    const report = await diffShadow(side(live), side(shadow));
    assert.deepEqual(report, { documents: 2, same: 2, differences: [] });
  });

  it('names each document that differs, and how', async () => {
    await live.readModels.writeOps([
      ...history('ahead', 6),
      ...history('changed', 4),
      ...history('only-live', 2),
      ...history('same', 3),
    ]);
    await shadow.readModels.writeOps([
      ...history('ahead', 4),
      ...history('changed', 4, { version: 3, text: 'Z' }),
      ...history('only-shadow', 1),
      ...history('same', 3),
    ]);
    const report = await diffShadow(side(live), side(shadow));
    assert.equal(report.documents, 5);
    assert.equal(report.same, 1);
    assert.deepEqual(
      report.differences.map((d) => [d.docId, d.status]),
      [
        ['ahead', 'version-differs'],
        ['changed', 'text-differs'],
        ['only-live', 'missing-in-shadow'],
        ['only-shadow', 'extra-in-shadow'],
      ],
    );
    const [ahead, changed, onlyLive, onlyShadow] = report.differences;
    assert.deepEqual(ahead!.shared, { version: 4, live: stateHash('xyyy'), shadow: stateHash('xyyy') });
    assert.deepEqual(ahead!.live, { version: 6, hash: stateHash('xyyyyy') });
    assert.deepEqual(changed!.shared, { version: 4, live: stateHash('xyyy'), shadow: stateHash('xyZy') });
    assert.deepEqual(onlyLive!.live, { version: 2, hash: stateHash('xy') });
    assert.equal(onlyLive!.shadow, undefined);
    assert.deepEqual(onlyShadow!.shadow, { version: 1, hash: stateHash('x') });
    assert.equal(
      describeShadowDocument(changed!),
      `changed: text-differs at version 4: live ${stateHash('xyyy')}, shadow ${stateHash('xyZy')} (heads: live v4 ${stateHash('xyyy')}, shadow v4 ${stateHash('xyZy')})`,
    );
    assert.equal(
      describeShadowDocument(ahead!),
      `ahead: version-differs: live v6 ${stateHash('xyyyyy')}, shadow v4 ${stateHash('xyyy')}; the same text at version 4 (${stateHash('xyyy')})`,
    );
  });

  it('reports a side whose op rows cannot rebuild its head as unreadable, naming the side', async () => {
    for (const s of [live, shadow]) await s.readModels.writeOps(history('gap', 5));
    const store = shadow.readModels;
    const withGap: ReadModelStore = {
      ...store,
      getOps: async (...args) => (await store.getOps(...args)).filter((o) => o.version !== 3),
      getHead: (...args) => store.getHead(...args),
    };
    const report = await diffShadow(side(live), side(shadow, withGap));
    assert.equal(report.differences.length, 1);
    assert.equal(report.differences[0]!.status, 'unreadable');
    assert.match(
      describeShadowDocument(report.differences[0]!),
      /^gap: unreadable: shadow: gap: history gap: needed version 3/,
    );
  });

  it('plan: --shadow in either mode, --fail-on-diff only with it, not in place', () => {
    const defaults = { outFile: '/data/replay.db', liveKeyspace: 'collab' };
    assert.deepEqual(planReplay('distributed', { keyspace: 's1', shadow: true, failOnDiff: true }, defaults), {
      plan: { mode: 'distributed', keyspace: 's1', compareWith: 'collab', shadow: { failOnDiff: true } },
    });
    assert.deepEqual(planReplay('embedded', { shadow: true }, defaults), {
      plan: {
        mode: 'embedded',
        target: { kind: 'file', path: '/data/replay.db' },
        shadow: { failOnDiff: false },
      },
    });
    const bad = planReplay('embedded', { shadow: true, inPlace: true }, defaults) as { problems: string[] };
    assert.match(bad.problems.join(';'), /--shadow with --in-place/);
    const noShadow = planReplay('distributed', { keyspace: 's1', failOnDiff: true }, defaults) as {
      problems: string[];
    };
    assert.match(noShadow.problems.join(';'), /--fail-on-diff: only with --shadow/);
  });
});
