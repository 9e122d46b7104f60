/**
 * The SDK runs in browsers: its sources may import only each other, @collab/ot-text and @collab/protocol's zod-free entry, and may not touch Node
 * globals. (The tsconfig includes the DOM lib and Node types both, so the compiler alone would not notice.)
 *
 * `@collab/client/testing` (src/testing/) runs in browser test runners too; it may also import @collab/core (the
 * pure sequencer decision the simulated server runs), and the SDK's entry never imports it, so an app's bundle
 * never carries the core.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

function checkFolder(folder: string, allowed: (spec: string) => boolean): void {
  for (const file of readdirSync(srcDir + folder).filter((f) => f.endsWith('.ts'))) {
    it(folder + file, () => {
      const source = readFileSync(srcDir + folder + file, 'utf8');
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
        assert.ok(allowed(spec!), `${folder}${file} imports ${spec}`);
      }
      assert.doesNotMatch(source, /\b(process|Buffer|require|setImmediate)\s*[.(]/, `${file} uses a Node global`);
    });
  }
}

describe('SDK sources are browser-safe', () => {
  checkFolder(
    '',
    (spec) =>
      (spec.startsWith('./') && !spec.startsWith('./testing/')) ||
      spec === '@collab/ot-text' ||
      spec === '@collab/protocol',
  );
});

describe('@collab/client/testing is browser-safe and the only importer of the core', () => {
  checkFolder(
    'testing/',
    (spec) =>
      spec.startsWith('./') ||
      spec.startsWith('../') ||
      spec === '@collab/core' ||
      spec === '@collab/ot-text' ||
      spec === '@collab/protocol',
  );
});
