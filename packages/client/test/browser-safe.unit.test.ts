/**
 * The SDK runs in browsers: its sources may import only each other, @collab/ot-text and @collab/protocol's zod-free entry, and may not touch Node
 * globals. (The tsconfig includes the DOM lib and Node types both, so the compiler alone would not notice.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

describe('SDK sources are browser-safe', () => {
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts'))) {
    it(file, () => {
      const source = readFileSync(srcDir + file, 'utf8');
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
        assert.ok(
          spec!.startsWith('./') || spec === '@collab/ot-text' || spec === '@collab/protocol',
          `${file} imports ${spec}`,
        );
      }
      assert.doesNotMatch(source, /\b(process|Buffer|require)\s*[.(]/, `${file} uses a Node global`);
    });
  }
});
