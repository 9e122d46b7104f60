/**
 * The README's example of `@collab/client/testing`, run as written: extracted from the README, written beside the
 * repository's node_modules (so that `@collab/client` resolves as it does for an app) and imported. It asserts
 * itself; this test fails if it throws or stops printing its result.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readmeExample } from './support/readme-example.js';

const cacheDir = fileURLToPath(new URL('../../../node_modules/.cache/collab-client-readme/', import.meta.url));

describe('the README example of @collab/client/testing', () => {
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('runs: two clients converge on the simulated server, an offline edit arrives once', async () => {
    mkdirSync(cacheDir, { recursive: true });
    const file = `${cacheDir}example-${process.pid}.mjs`;
    writeFileSync(file, readmeExample());
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => printed.push(args.join(' '));
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
    }
    assert.deepEqual(printed.length, 1);
    assert.match(printed[0]!, /^converged on "(WorldHello|HelloWorld)!" at version 3$/);
  });
});
