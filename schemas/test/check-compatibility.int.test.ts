/**
 * The CI compatibility check (scripts/check-compatibility.ts, what check-compatibility.sh runs) against a real
 * registry: the repository's schemas pass, and a draft that breaks either direction fails it, exit code 1 naming
 * the draft — including a union branch added inside `op`, which Apicurio 2.0.2's own check accepts and which
 * every older reader then fails on (the check's avsc resolution catches it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireSchemaRegistry, useStack } from '@collab/infra';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const v2 = JSON.parse(readFileSync(new URL('../avro/op-committed/v2.avsc', import.meta.url), 'utf8')) as {
  fields: { name: string; type: unknown }[];
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the schema compatibility check (scripts/check-compatibility.ts) against the registry', function () {
  this.timeout(120_000);
  let url: string;
  let drafts: string;

  before(async () => {
    url = requireSchemaRegistry(await useStack()).url;
    drafts = mkdtempSync(join(tmpdir(), 'collab-schema-drafts-'));
  });
  after(() => rmSync(drafts, { recursive: true, force: true }));

  function check(...draftFiles: string[]): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile(
        'npx',
        ['tsx', '--conditions=@collab/source', 'schemas/scripts/check-compatibility.ts', ...draftFiles],
        { cwd: repoRoot, env: { ...process.env, SCHEMA_REGISTRY_URL: url }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr }),
      );
    });
  }

  function draft(name: string, change: (fields: { name: string; type: unknown }[]) => unknown[]): string {
    const file = join(drafts, `${name}.avsc`);
    writeFileSync(file, JSON.stringify({ ...v2, fields: change(structuredClone(v2.fields)) }));
    return file;
  }

  it("passes with the repository's schemas (v1, v2)", async () => {
    const r = await check();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /avro\/op-committed\/v2\.avsc: compatible with v1 \(FULL_TRANSITIVE\)/);
  });

  it('passes with a compatible draft (an optional field with a default)', async () => {
    const file = draft('optional-field', (fields) => [
      ...fields,
      { name: 'note', type: ['null', 'string'], default: null },
    ]);
    const r = await check(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /optional-field\.avsc \(draft\): compatible with v1\.\.v2/);
  });

  const refused: Record<string, [(fields: { name: string; type: unknown }[]) => unknown[], RegExp]> = {
    'docId retyped to long': [
      (fields) => fields.map((f) => (f.name === 'docId' ? { ...f, type: 'long' } : f)),
      /is not compatible with avro\/op-committed\/v1\.avsc \(the registry says so\)/,
    ],
    '`op` removed (v1 readers need it: it has no default)': [
      (fields) => fields.filter((f) => f.name !== 'op'),
      /avro\/op-committed\/v1\.avsc cannot read data written with .*no matching field for default-less collab\.ops\.OpCommitted\.op/,
    ],
  };
  for (const [name, [change, message]] of Object.entries(refused)) {
    it(`fails (exit 1) with a draft: ${name}`, async () => {
      const r = await check(draft(name.replace(/\W+/g, '-'), change));
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
    });
  }

  it('fails (exit 1) with a union branch added inside `op` (Apicurio 2.0.2 itself accepts it)', async () => {
    const file = draft('union-branch', (fields) =>
      fields.map((f) =>
        f.name === 'op'
          ? {
              ...f,
              type: {
                type: 'array',
                items: [
                  ...((f.type as { items: unknown[] }).items as unknown[]),
                  {
                    type: 'record',
                    name: 'Cut',
                    fields: [
                      { name: 'count', type: 'long' },
                      { name: 'at', type: 'long', default: 0 },
                    ],
                  },
                ],
              },
            }
          : f,
      ),
    );
    const r = await check(file);
    assert.equal(r.code, 1, r.stdout);
    // Apicurio 2.0.2 says compatible here (Delete could read Cut's fields: it seems to match record branches by
    // structure, Avro by name); the avsc resolution in the check refuses it, as every v1 reader would.
    assert.match(
      r.stderr,
      /avro\/op-committed\/v1\.avsc cannot read data written with .*union-branch\.avsc.*cannot read "collab\.ops\.Cut"/,
    );
  });
});
