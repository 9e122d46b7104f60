/**
 * docs/operations.md lists every metric the services define, with its unit; operators build dashboards and alerts
 * from that table. This reads the instrument declarations in the sources and fails when the table and the code
 * disagree on a name or a unit (a metric added, renamed or re-unitted without the docs, or the other way round).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_ROOTS = ['command-service/src', 'projection-service/src', 'snapshot-service/src', 'presence-service/src'];

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

/** name → unit (undefined: none given), from `meter.createX('name', options)` calls. */
function declaredInCode(): Map<string, string | undefined> {
  const declared = new Map<string, string | undefined>();
  const call =
    /\.create(?:Histogram|Counter|UpDownCounter|Gauge|Observable\w+)\(\s*'([a-z0-9_.]+)',\s*(?=([\s\S]{0,300}))/g;
  for (const root of SOURCE_ROOTS) {
    for (const file of sourceFiles(join(REPO, root))) {
      for (const [, name, options] of readFileSync(file, 'utf8').matchAll(call)) {
        const unit = options!.startsWith('latencyHistogram(') ? 's' : /^\{[^}]*?unit: '([^']+)'/.exec(options!)?.[1];
        declared.set(name!, unit);
      }
    }
  }
  return declared;
}

/** name → unit, from the table under "## Metrics and SLO alerts". */
function documented(): Map<string, string> {
  const text = readFileSync(join(REPO, 'docs/operations.md'), 'utf8');
  const section = text.slice(text.indexOf('## Metrics and SLO alerts'));
  const rows = new Map<string, string>();
  for (const [, name, unit] of section.matchAll(
    /^\| `(collab\.[a-z0-9_.]+)`[^|]*\| ([^|]+?) \| (?:command|projection|snapshot) \|/gm,
  )) {
    rows.set(name!, unit!);
  }
  return rows;
}

describe('metrics documented in docs/operations.md', () => {
  it('lists exactly the metrics the code defines, each with its unit', () => {
    const code = declaredInCode();
    const docs = documented();
    assert.ok(code.size >= 20, `found only ${code.size} instruments in the sources: is the pattern still right?`);
    assert.deepEqual([...docs.keys()].sort(), [...code.keys()].sort(), 'the same metric names');
    for (const [name, unit] of code) {
      assert.ok(unit !== undefined, `${name}: declare its unit (base units: s, or an annotation such as {op})`);
      assert.equal(docs.get(name), unit, `${name}: the unit in the docs`);
    }
  });
});
