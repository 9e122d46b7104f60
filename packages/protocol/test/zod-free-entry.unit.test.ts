/**
 * The SDK bundles `@collab/protocol` into browser pages, so its main entry must load nothing at run time but its
 * own zod-free modules: no zod (it would more than double the SDK's bundle), no Node built-ins. Type-only imports
 * and exports are erased by the compiler and do not count. The schemas live behind `@collab/protocol/schemas`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

/** The specifiers a module loads at run time (`import type` / `export type` are left out). */
function runtimeImports(file: string): string[] {
  const source = readFileSync(srcDir + file, 'utf8');
  const specs: string[] = [];
  for (const [, kind, spec] of source.matchAll(/^(import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
    if (kind !== undefined) specs.push(spec!);
  }
  return specs;
}

describe('@collab/protocol main entry', () => {
  it('loads only its own zod-free modules at run time, and no Node built-in', () => {
    const seen = new Set<string>();
    const queue = ['index.ts'];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(srcDir + file, 'utf8');
      assert.doesNotMatch(source, /\b(process|Buffer|require)\s*[.(]/, `${file} uses a Node global`);
      for (const spec of runtimeImports(file)) {
        assert.ok(spec.startsWith('./'), `${file} loads ${spec} at run time`);
        queue.push(spec.slice(2).replace(/\.js$/, '.ts'));
      }
    }
    assert.ok(seen.has('errors.ts') && seen.has('state-hash.ts'), [...seen].join(', '));
    assert.ok(!seen.has('client-messages.ts') && !seen.has('server-messages.ts'), [...seen].join(', '));
  });

  it('the schemas entry is where zod is', () => {
    assert.ok(runtimeImports('client-messages.ts').includes('zod'));
  });
});
