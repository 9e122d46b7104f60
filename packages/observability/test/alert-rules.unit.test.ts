/**
 * deploy/prometheus/alerts.yml is written against the names the services expose on /metrics. promtool checks
 * its syntax and fires each alert from synthetic series (deploy/validate.sh), but synthetic series carry whatever
 * name the rule uses: this test ties the rules to the code's metrics instead. Every `collab_*` name in a rule must
 * be the Prometheus name of a metric in docs/operations.md's table (itself checked against the code by
 * metrics-documented.unit.test.ts): dots become underscores, counters end in `_total`, histograms in
 * `_bucket`/`_sum`/`_count`, no unit suffix. Every alert must have a runbook heading in docs/operations.md and a
 * promtool test case.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');

/** Prometheus name → the documented metric, from the table under "## Metrics and SLO alerts". */
function exposedNames(): Map<string, string> {
  const docs = read('docs/operations.md');
  const section = docs.slice(docs.indexOf('## Metrics and SLO alerts'));
  const names = new Map<string, string>();
  const row = /^\| `(collab\.[a-z0-9_.]+)`[^|]*\| [^|]+? \| (?:command|projection|snapshot) \| ([a-z -]+?) \|/gm;
  for (const [, metric, kind] of section.matchAll(row)) {
    const base = metric!.replaceAll('.', '_');
    const suffixes = kind === 'counter' ? ['_total'] : kind === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const suffix of suffixes) names.set(base + suffix, metric!);
  }
  return names;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');
}

describe('Prometheus alert rules (deploy/prometheus/alerts.yml)', () => {
  const rules = read('deploy/prometheus/alerts.yml');
  const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);

  it('use only metric names the services expose', () => {
    const exposed = exposedNames();
    assert.ok(exposed.size >= 40, `only ${exposed.size} names from the docs table: is the pattern still right?`);
    const exprs = [...rules.matchAll(/^\s+expr: (?:>-\n)?([\s\S]*?)\n\s+(?:for|labels):/gm)].map((m) => m[1]!);
    assert.equal(exprs.length, alerts.length, 'one expr per alert');
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bcollab_[a-z0-9_]+/g)].map((m) => m[0])));
    assert.ok(used.size >= 10, `only ${used.size} collab metrics used`);
    for (const name of used) assert.ok(exposed.has(name), `${name} is not the Prometheus name of a documented metric`);
  });

  it('each link a runbook heading in docs/operations.md and have a promtool test', () => {
    assert.ok(alerts.length >= 10, `only ${alerts.length} alerts found`);
    const headings = new Set([...read('docs/operations.md').matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1]!)));
    const tests = read('deploy/prometheus/alerts.test.yml');
    const runbooks = [...rules.matchAll(/^\s+runbook: docs\/operations\.md#(\S+)$/gm)].map((m) => m[1]!);
    assert.equal(runbooks.length, alerts.length, 'one runbook annotation per alert');
    for (const link of runbooks) assert.ok(headings.has(link), `no heading for the runbook link #${link}`);
    for (const alert of alerts) {
      assert.ok(tests.includes(`alertname: ${alert}\n`), `${alert}: no case in alerts.test.yml`);
      assert.ok(
        runbooks.some((link) => link.split('--').includes(alert.toLowerCase())),
        `${alert}: its runbook`,
      );
    }
  });
});
