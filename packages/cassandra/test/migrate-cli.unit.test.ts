import assert from 'node:assert/strict';

import { runMigrateCli } from '../src/migrate-cli.js';

const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
};

describe('migrate-cli', function () {
  it('--help prints the options and exits 0 without connecting', async function () {
    const c = capture();
    assert.equal(await runMigrateCli(['--help'], c.io), 0);
    for (const flag of ['--keyspace', '--contact-points', '--local-dc', '--replication-factor']) {
      assert.match(c.out.join('\n'), new RegExp(flag));
    }
  });

  it('an unknown flag or a bad number is a usage error (exit 2)', async function () {
    const c = capture();
    assert.equal(await runMigrateCli(['--nope'], c.io), 2);
    assert.equal(await runMigrateCli(['--replication-factor', 'three'], c.io), 2);
    assert.match(c.err.join('\n'), /Usage/);
  });
});
