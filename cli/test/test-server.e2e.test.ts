/**
 * `@collab/cli/testing`: the README's example, run as it is (example/test-server.ts, which the README quotes),
 * and the fixture's own promises — a fresh folder removed on close, a given one kept.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '@collab/cli/testing';
import { twoPeopleEditOneDocument } from '../example/test-server.js';

describe('@collab/cli/testing', function () {
  this.timeout(60_000);

  it('the README quotes the example as it is', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf("## Your app's integration tests"));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.equal(block, readFileSync(new URL('../example/test-server.ts', import.meta.url), 'utf8'));
  });

  it('runs the example: two people edit one document, a third opens it with both edits', async () => {
    assert.match(await twoPeopleEditOneDocument(), /^(HelloWorld|WorldHello)$/);
  });

  it('removes the folder it made on close, and keeps a folder it was given', async () => {
    const made = await startTestServer();
    assert.ok(existsSync(made.dataDir));
    await made.close();
    assert.equal(existsSync(made.dataDir), false);

    const given = mkdtempSync(join(tmpdir(), 'collab-given-'));
    try {
      const kept = await startTestServer({ dataDir: given });
      await kept.close();
      assert.ok(existsSync(join(given, 'collab.db')));
    } finally {
      rmSync(given, { recursive: true, force: true });
    }
  });

  it('takes configuration like collab serve, and refuses a bad one with the variable named, leaving no folder', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('collab-test-server-')));
    await assert.rejects(startTestServer({ env: { COLLAB_PARTITIONS: 'many' } }), /COLLAB_PARTITIONS/);
    const left = readdirSync(tmpdir()).filter((name) => name.startsWith('collab-test-server-') && !before.has(name));
    assert.deepEqual(left, [], 'the folder made for the refused start is removed');
  });
});
