/**
 * The dependency rule is the build's, not the reviewer's: eslint.config.js refuses the imports that break it (the
 * breaks named here are ones the repository once had), and the workspaces' package.json files form no cycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `import` of `spec` in `file` (a path from the repository root; it need not exist). */
async function restrictedImport(file: string, spec: string): Promise<string | undefined> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(`import { x } from '${spec}';\nexport const y = x;\n`, { filePath: file });
  return result!.messages.find((m) => m.ruleId === 'no-restricted-imports')?.message;
}

describe('the dependency rule, as lint rules', function () {
  this.timeout(60_000);

  const refused: Array<[string, string, string]> = [
    ['a service takes its ports from the core, not an adapter', 'snapshot-service/src/x.ts', '@collab/adapter-s3'],
    [
      'a test does not reach into another package',
      'packages/web-editor/test/x.ts',
      '../../../cli/src/embedded/server.js',
    ],
    [
      'a benchmark does not reach into another package',
      'command-service/bench/x.ts',
      '../../packages/ot-text/bench/stats.js',
    ],
    ['no file of another package, by name either', 'command-service/test/x.ts', '@collab/core/src/index.js'],
    [
      'presence-service does not depend on the command-service back',
      'presence-service/src/x.ts',
      '@collab/command-service',
    ],
    ['the core imports no driver', 'packages/core/src/x.ts', 'kafkajs'],
    ['the core imports no Node built-in', 'packages/core/src/x.ts', 'node:fs'],
    ['the OT type imports nothing', 'packages/ot-text/src/x.ts', '@collab/core'],
    ['the SDK imports nothing server-side', 'packages/client/src/x.ts', '@collab/core'],
    ['the SDK does not bundle the schemas', 'packages/client/src/x.ts', '@collab/protocol/schemas'],
    ['the simulated server runs in browsers too: no node:', 'packages/client/src/testing/x.ts', 'node:crypto'],
    ['the simulated server uses no adapter', 'packages/client/src/testing/x.ts', '@collab/adapter-sqlite'],
    ['an adapter does not depend on a service', 'packages/kafka/src/x.ts', '@collab/command-service'],
    ['service logic uses no driver', 'command-service/src/documents/x.ts', 'kafkajs'],
    ['OpenTelemetry only through @collab/observability', 'projection-service/src/x.ts', '@opentelemetry/api'],
  ];
  for (const [rule, file, spec] of refused) {
    it(`refuses: ${rule} (${spec} in ${file})`, async () => {
      assert.ok(await restrictedImport(file, spec), `${spec} is allowed in ${file}`);
    });
  }

  const allowed: Array<[string, string]> = [
    ['snapshot-service/src/main.ts', '@collab/adapter-s3'],
    ['command-service/src/transport/x.ts', 'uWebSockets.js'],
    ['packages/client/src/x.ts', '@collab/protocol'],
    ['packages/client/src/x.ts', './protocol-helpers.js'],
    ['packages/client/src/testing/x.ts', '@collab/core'],
    ['packages/web-editor/test/x.ts', '@collab/client/testing'],
    ['packages/kafka/test/support/x.ts', '../../src/index.js'],
    ['command-service/test/x.ts', '@collab/protocol/schemas'],
    ['packages/observability/src/x.ts', '@opentelemetry/api'],
  ];
  for (const [file, spec] of allowed) {
    it(`allows ${spec} in ${file}`, async () => {
      assert.equal(await restrictedImport(file, spec), undefined);
    });
  }
});

describe('the workspaces', () => {
  it('depend on each other without a cycle (dependencies and devDependencies)', () => {
    const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] })
      .workspaces;
    const dirs = workspaces.flatMap((w) =>
      w.endsWith('/*') ? readdirSync(join(root, w.slice(0, -2))).map((d) => join(w.slice(0, -2), d)) : [w],
    );
    const deps = new Map<string, string[]>();
    for (const dir of dirs) {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      deps.set(
        pkg.name,
        Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d.startsWith('@collab/')),
      );
    }
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      const at = path.indexOf(name);
      assert.equal(at, -1, `a cycle: ${[...path.slice(at), name].join(' → ')}`);
      if (done.has(name)) return;
      for (const dep of deps.get(name) ?? []) visit(dep, [...path, name]);
      done.add(name);
    };
    for (const name of deps.keys()) visit(name, []);
    assert.ok(deps.size > 15, `found ${deps.size} workspaces`);
  });
});
