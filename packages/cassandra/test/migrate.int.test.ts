/** Migrations against the real server: first run, idempotent re-run, a changed applied file, a new file. */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Client } from 'cassandra-driver';

import { isCollabError } from '@collab/core';

import { DEFAULT_MIGRATIONS_DIR, migrate } from '../src/index.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

describe('migrate (Cassandra)', function () {
  let client: Client;
  let dir: string;
  let keyspace: string;

  before(async function () {
    client = (await connectTestCassandra()).client;
  });
  after(async function () {
    await client?.shutdown();
  });

  beforeEach(async function () {
    keyspace = freshKeyspaceName('mig_test');
    dir = await mkdtemp(join(tmpdir(), 'collab-migrations-'));
    for (const file of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      await copyFile(join(DEFAULT_MIGRATIONS_DIR, file), join(dir, file));
    }
  });
  afterEach(async function () {
    await dropKeyspace(client, keyspace);
    await rm(dir, { recursive: true, force: true });
  });

  const tables = async (): Promise<string[]> =>
    (await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace])).rows
      .map((r) => String(r['table_name']))
      .sort();

  it('creates the keyspace and every table, records the migration, and applies nothing on a re-run', async function () {
    const first = await migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir });
    assert.deepEqual(
      first.applied.map((m) => m.name),
      [
        '0001_read_models.cql',
        '0002_bucketed_indexes.cql',
        '0003_op_blocks.cql',
        '0004_projection_source.cql',
        '0005_comment_events.cql',
      ],
    );
    assert.deepEqual(await tables(), [
      'comment_events',
      'doc_days',
      'doc_heads',
      'op_blocks',
      'ops',
      'projection_source',
      'schema_migrations',
      'user_activity',
      'user_days',
      'user_doc_buckets',
      'version_times',
      'versions_by_time',
    ]);
    const recorded = await client.execute(
      `SELECT version, name, checksum, applied_at FROM ${keyspace}.schema_migrations`,
    );
    assert.equal(recorded.rows.length, 5);
    const byVersion = new Map(recorded.rows.map((r) => [Number(r['version']), r]));
    assert.equal(byVersion.get(1)?.['checksum'], first.applied[0]?.checksum);
    assert.equal(byVersion.get(2)?.['checksum'], first.applied[1]?.checksum);
    assert.equal(byVersion.get(3)?.['checksum'], first.applied[2]?.checksum);
    assert.ok(byVersion.get(1)?.['applied_at'] instanceof Date);

    const second = await migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir });
    assert.deepEqual(second.applied, []);
    assert.deepEqual(second.alreadyApplied, first.applied);
  });

  it('applies only a new file on the next run, in order', async function () {
    await migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir });
    await writeFile(
      join(dir, '0099_extra.cql'),
      '-- a later migration\nCREATE TABLE IF NOT EXISTS extra (k text PRIMARY KEY, v text); /* done; */\n' +
        "INSERT INTO extra (k, v) VALUES ('semi;colon', 'it''s');\n",
    );
    const result = await migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir });
    assert.deepEqual(
      result.applied.map((m) => m.version),
      [99],
    );
    const row = (await client.execute(`SELECT v FROM ${keyspace}.extra WHERE k = 'semi;colon'`)).first();
    assert.equal(row?.['v'], "it's");
  });

  it('refuses to run when an applied migration file changed (checksum mismatch), applying nothing', async function () {
    await migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir });
    await appendFile(join(dir, '0001_read_models.cql'), '\n-- an innocent-looking edit\n');
    await writeFile(join(dir, '0099_never.cql'), 'CREATE TABLE IF NOT EXISTS never (k text PRIMARY KEY);\n');
    await assert.rejects(
      migrate(client, { keyspace, replication: TEST_REPLICATION, migrationsDir: dir }),
      (err) => isCollabError(err, 'ERR_CORRUPT') && /0001_read_models\.cql.*checksum mismatch/.test(err.message),
    );
    assert.ok(!(await tables()).includes('never'));
  });
});
