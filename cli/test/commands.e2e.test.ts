/**
 * Every `collab` command end to end: the real CLI spawned against a temporary data folder while `collab serve`
 * runs on it, with edits made by SDK clients over WebSocket. What each test proves is in its name.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import type { ClientDocument, CollabClient } from '@collab/client';
import type { HistoryEntry, OpCommitted } from '@collab/core';
import avro from 'avsc';
import {
  cleanEnv,
  cli,
  runCli,
  sdkClient,
  startServer,
  tempDataDir,
  until,
  type ServerProcess,
} from './support/cli.js';
import { assertWellFormedHistory, fromAvro, parseNdjson, replayText } from './support/oracle.js';

async function typeAndSettle(doc: ClientDocument, edit: (d: ClientDocument) => void): Promise<void> {
  edit(doc);
  await until('the edit is acknowledged', () => doc.pendingCount === 0);
}

/** Rows of the read-model tables, for comparing two database files exactly. */
async function readModelRows(path: string): Promise<{ ops: unknown[]; heads: unknown[] }> {
  const storage = await createSqliteStorage({ path, partitionCount: 8 });
  try {
    return {
      ops: storage.database.prepare('SELECT * FROM rm_ops ORDER BY doc_id, version').all(),
      heads: storage.database.prepare('SELECT * FROM rm_heads ORDER BY doc_id').all(),
    };
  } finally {
    await storage.close();
  }
}

describe('collab CLI (end to end)', function () {
  this.timeout(180_000);
  const data = tempDataDir();
  const dataDir = ['--data-dir', data.dir];
  let server: ServerProcess;
  let client: CollabClient;
  let token: string;
  let notes: ClientDocument;
  const expected = { notes: '', other: '' };

  before(async () => {
    server = await startServer(data.dir);
    token = (await cli(['token', '--user', 'alice', ...dataDir])).trim();
    client = sdkClient(server.wsUrl, token);
    notes = await client.openDocument('notes');
    const other = await client.openDocument('other');
    await typeAndSettle(notes, (d) => d.insert(0, 'hello'));
    await typeAndSettle(notes, (d) => d.insert(5, ' world'));
    await typeAndSettle(notes, (d) => d.delete(0, 1));
    await typeAndSettle(notes, (d) => d.insert(0, 'H'));
    await typeAndSettle(notes, (d) => d.insert(11, '!'));
    await typeAndSettle(other, (d) => d.insert(0, 'another document'));
    await typeAndSettle(other, (d) => d.delete(0, 8));
    expected.notes = notes.text;
    expected.other = other.text;
    assert.equal(expected.notes, 'Hello world!');
    assert.equal(expected.other, 'document');
    // The read models follow the log asynchronously: wait until the read API shows both heads.
    for (const [docId, version] of [
      ['notes', 5],
      ['other', 2],
    ] as const) {
      await until(`${docId} is projected`, async () => {
        const r = await fetch(`${server.url}/v1/docs/${docId}`, { headers: { authorization: `Bearer ${token}` } });
        return r.ok && ((await r.json()) as { version: number }).version === version;
      });
    }
  });

  after(async () => {
    client?.close();
    if (server !== undefined && server.child.exitCode === null) await server.stop('SIGTERM');
    data.remove();
  });

  describe('--help', () => {
    const commands = [
      ['serve'],
      ['migrate'],
      ['token'],
      ['doc'],
      ['doc', 'get'],
      ['doc', 'history'],
      ['export'],
      ['replay'],
    ];
    it('works for the program and every subcommand, naming the command', async () => {
      const results = await Promise.all([[], ...commands].map((c) => runCli([...c, '--help'])));
      results.forEach((r, i) => {
        const name = ['collab', ...(i === 0 ? [] : commands[i - 1]!)].join(' ');
        assert.equal(r.code, 0, `${name} --help exited ${r.code}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^Usage: ${name} `), name);
      });
      assert.match(results[0]!.stdout, /migrate[\s\S]*replay[\s\S]*serve[\s\S]*token/);
    });
  });

  describe('configuration', () => {
    it('lists every problem of the embedded configuration at once and exits 2', async () => {
      const r = await runCli(
        ['serve', '--port', 'abc'],
        cleanEnv({ COLLAB_PARTITIONS: '0', COLLAB_JWT_SECRET: 'short' }),
      );
      assert.equal(r.code, 2);
      assert.match(r.stderr, /COLLAB_PORT/);
      assert.match(r.stderr, /COLLAB_PARTITIONS/);
      assert.match(r.stderr, /COLLAB_JWT_SECRET: must be at least 32 characters/);
    });

    it('lists every problem of the distributed configuration at once and exits 2 (migrate, serve)', async () => {
      const env = cleanEnv({ COLLAB_MODE: 'distributed', COLLAB_OPS_PARTITIONS: 'many', S3_ACCESS_KEY_ID: 'k' });
      const [migrate, serve, serveNoSecret] = await Promise.all([
        runCli(['migrate'], env),
        runCli(['serve'], env),
        runCli(['serve', '--mode', 'distributed'], cleanEnv({ KAFKA_BROKERS: 'k:9092' })),
      ]);
      assert.equal(migrate.code, 2, migrate.stderr);
      for (const problem of [
        'KAFKA_BROKERS',
        'COLLAB_OPS_PARTITIONS',
        'CASSANDRA_CONTACT_POINTS',
        'S3_SECRET_ACCESS_KEY',
      ]) {
        assert.match(migrate.stderr, new RegExp(problem));
      }
      // serve --mode distributed validates through the command-service's own configuration.
      assert.equal(serve.code, 2, serve.stderr);
      for (const problem of ['KAFKA_BROKERS', 'COLLAB_OPS_PARTITIONS']) assert.match(serve.stderr, new RegExp(problem));
      assert.equal(serveNoSecret.code, 2, serveNoSecret.stderr);
      assert.match(serveNoSecret.stderr, /COLLAB_JWT_SECRET, COLLAB_JWT_PUBLIC_KEY_FILES or COLLAB_JWT_JWKS_URL/);
    });

    it('refuses an unknown mode, a bad flag value and conflicting flags with exit 2', async () => {
      const results = await Promise.all([
        runCli(['doc', 'get', 'notes', '--mode', 'cluster', ...dataDir]),
        runCli(['doc', 'get', 'notes', '--version', 'latest', ...dataDir]),
        runCli(['doc', 'get', 'notes', '--at', '2024-05-01T12:00:00', ...dataDir]),
        runCli(['replay', '--in-place', '--out', 'x.db', '--from', '3', '--keyspace', 'k', ...dataDir]),
      ]);
      for (const r of results) assert.equal(r.code, 2, r.stderr);
      assert.match(results[0]!.stderr, /--mode: must be embedded or distributed/);
      assert.match(results[1]!.stderr, /--version: must be a non-negative integer/);
      assert.match(results[2]!.stderr, /--at: .*with a zone/);
      for (const flag of ['--keyspace', '--in-place and --out', '--in-place with --from']) {
        assert.ok(results[3]!.stderr.includes(flag), `${flag} is not listed:\n${results[3]!.stderr}`);
      }
    });

    it('prints the effective configuration with secrets redacted', async () => {
      const secret = 's'.repeat(40);
      const env = cleanEnv({ COLLAB_JWT_SECRET: secret, S3_ACCESS_KEY_ID: 'AKIA', S3_SECRET_ACCESS_KEY: 'hush-hush' });
      const [serve, migrate] = await Promise.all([
        runCli(['serve', '--print-config', ...dataDir], env),
        runCli(['migrate', '--print-config', '--mode', 'distributed'], {
          ...env,
          KAFKA_BROKERS: 'k:9092',
          CASSANDRA_CONTACT_POINTS: 'c:9042',
        }),
      ]);
      assert.equal(serve.code, 0, serve.stderr);
      assert.equal((JSON.parse(serve.stdout) as { jwtSecret: string }).jwtSecret, '[redacted]');
      assert.ok(!serve.stdout.includes(secret));
      assert.equal(migrate.code, 0, migrate.stderr);
      const printed = JSON.parse(migrate.stdout) as { kafka: { brokers: string[] }; s3: { credentials: string } };
      assert.deepEqual(printed.kafka.brokers, ['k:9092']);
      assert.equal(printed.s3.credentials, '[redacted]');
      assert.ok(!migrate.stdout.includes('hush-hush'));
    });
  });

  describe('migrate (embedded)', () => {
    it('creates a new database and reports the schema version; then finds it up to date', async () => {
      const fresh = tempDataDir();
      try {
        const first = await cli(['migrate', '--data-dir', fresh.dir]);
        assert.match(first, /created, applied migration\(s\) 1, 2, schema version 2, 8 partitions/);
        const second = await cli(['migrate', '--data-dir', fresh.dir]);
        assert.match(second, /opened, up to date, schema version 2/);
      } finally {
        fresh.remove();
      }
    });
  });

  describe('token', () => {
    it("prints a token the running server accepts; a token with another data folder's secret is refused", async () => {
      const read = (t: string) =>
        fetch(`${server.url}/v1/docs/notes`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
      assert.equal(await read(token), 200);
      const elsewhere = tempDataDir();
      try {
        const foreign = (await cli(['token', '--user', 'mallory', '--data-dir', elsewhere.dir])).trim();
        assert.equal(await read(foreign), 401);
      } finally {
        elsewhere.remove();
      }
      const readOnly = (await cli(['token', '--user', 'bob', '--doc', 'other:read', ...dataDir])).trim();
      assert.equal(await read(readOnly), 403);
    });
  });

  describe('doc', () => {
    it('get prints the current text, and JSON with the version', async () => {
      assert.equal(await cli(['doc', 'get', 'notes', ...dataDir]), expected.notes);
      const json = JSON.parse(await cli(['doc', 'get', 'other', '--json', ...dataDir])) as { version: number };
      assert.deepEqual(json, { docId: 'other', version: 2, text: expected.other });
    });

    it('get --version gives the text at each version', async () => {
      const texts = await Promise.all(
        [0, 1, 2, 3].map((v) => cli(['doc', 'get', 'notes', '--version', String(v), ...dataDir])),
      );
      assert.deepEqual(texts, ['', 'hello', 'hello world', 'ello world']);
      const beyond = await runCli(['doc', 'get', 'notes', '--version', '99', ...dataDir]);
      assert.equal(beyond.code, 1);
      assert.match(beyond.stderr, /ERR_NOT_FOUND/);
    });

    it('get --at gives the text as of a commit time (ms or ISO-8601)', async () => {
      const page = JSON.parse(await cli(['doc', 'history', 'notes', '--json', ...dataDir])) as {
        items: HistoryEntry[];
      };
      const byVersion = new Map(page.items.map((e) => [e.version, e.timestamp]));
      const first = byVersion.get(1)!;
      const before = await cli(['doc', 'get', 'notes', '--at', String(first - 1), '--json', ...dataDir]);
      assert.equal((JSON.parse(before) as { version: number }).version, 0);
      const last = byVersion.get(5)!;
      const iso = new Date(last).toISOString();
      assert.equal(await cli(['doc', 'get', 'notes', '--at', iso, ...dataDir]), expected.notes);
      // A version whose successor was committed later: --at its time is exactly that version.
      const v = [1, 2, 3, 4].find((k) => byVersion.get(k + 1)! > byVersion.get(k)!);
      assert.ok(v !== undefined, 'every commit had the same millisecond');
      const at = JSON.parse(await cli(['doc', 'get', 'notes', '--at', String(byVersion.get(v)), '--json', ...dataDir]));
      const atVersion = await cli(['doc', 'get', 'notes', '--version', String(v), ...dataDir]);
      assert.equal((at as { version: number; text: string }).version, v);
      assert.equal((at as { text: string }).text, atVersion);
    });

    it('history pages newest first with a cursor, as a table or JSON', async () => {
      const page1 = JSON.parse(await cli(['doc', 'history', 'notes', '--limit', '2', '--json', ...dataDir])) as {
        items: HistoryEntry[];
        next?: string;
      };
      assert.deepEqual(
        page1.items.map((e) => e.version),
        [5, 4],
      );
      assert.ok(page1.next !== undefined);
      assert.ok(page1.items.every((e) => e.userId === 'alice' && e.clientId === client.clientId));
      const page2 = JSON.parse(
        await cli(['doc', 'history', 'notes', '--limit', '2', '--cursor', page1.next, '--json', ...dataDir]),
      ) as { items: HistoryEntry[] };
      assert.deepEqual(
        page2.items.map((e) => e.version),
        [3, 2],
      );
      const table = await cli(['doc', 'history', 'notes', '--limit', '2', ...dataDir]);
      const lines = table.trim().split('\n');
      assert.match(lines[0]!, /^VERSION\s+TIME\s+USER\s+CLIENT$/);
      assert.match(lines[1]!, /^5\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+alice\s+/);
      assert.match(table, /more: --cursor \S+/);
    });
  });

  describe('export', () => {
    let ndjson: OpCommitted[];

    it('writes the full history from the log as NDJSON, contiguous, replaying to the text', async () => {
      const r = await runCli(['export', 'notes', ...dataDir]);
      assert.equal(r.code, 0, r.stderr);
      ndjson = parseNdjson(r.stdout);
      assert.equal(ndjson.length, 5);
      assertWellFormedHistory(ndjson);
      assert.ok(ndjson.every((op) => op.docId === 'notes' && op.clientId === client.clientId));
      assert.equal(replayText(ndjson), expected.notes);
      assert.match(r.stderr, /exported 5 op\(s\) of notes \(versions 1\.\.5\) as ndjson to stdout/);
      const other = parseNdjson(await cli(['export', 'other', ...dataDir]));
      assert.equal(replayText(other), expected.other);
    });

    it('writes an Avro container file (schema v2) that avsc decodes to the same records, also as a v1 reader', async () => {
      const out = join(data.dir, 'notes.avro');
      await cli(['export', 'notes', '--format', 'avro', '--out', out, ...dataDir]);
      const schemaOf = (version: number) =>
        JSON.parse(
          readFileSync(new URL(`../../schemas/avro/op-committed/v${version}.avsc`, import.meta.url), 'utf8'),
        ) as avro.Schema & { name: string };
      const decodeFile = async (readerSchema?: avro.Schema) => {
        const records: OpCommitted[] = [];
        let header: avro.types.RecordType | undefined;
        await new Promise<void>((resolve, reject) => {
          avro
            .createFileDecoder(out, readerSchema === undefined ? {} : { readerSchema })
            .on('metadata', (type: avro.types.RecordType) => (header = type))
            .on('data', (record: Parameters<typeof fromAvro>[0]) => records.push(fromAvro({ ...record })))
            .on('error', reject)
            .on('end', resolve);
        });
        return { records, header };
      };
      const { records, header } = await decodeFile();
      assert.equal(header?.name?.split('.').at(-1), schemaOf(2).name);
      assert.ok(header?.field('components') !== undefined, 'the file is written with v2 (it has `components`)');
      assert.deepEqual(records, ndjson);
      // A reader that only knows v1 resolves the file's v2 schema to its own: the same records, from `op`.
      assert.deepEqual((await decodeFile(schemaOf(1))).records, ndjson);
    });

    it('--all writes every document (the whole stream), each contiguous and replaying to its text', async () => {
      const r = await runCli(['export', '--all', ...dataDir]);
      assert.equal(r.code, 0, r.stderr);
      const all = parseNdjson(r.stdout);
      assert.equal(all.length, 7);
      for (const docId of ['notes', 'other'] as const) {
        const ops = all.filter((op) => op.docId === docId);
        assertWellFormedHistory(ops);
        assert.equal(replayText(ops), expected[docId]);
      }
      assert.match(r.stderr, /exported 7 op\(s\) of 2 document\(s\) as ndjson to stdout/);
    });

    it('refuses neither a document nor --all, and both, with exit 2', async () => {
      for (const args of [['export'], ['export', 'notes', '--all']]) {
        const r = await runCli([...args, ...dataDir]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /give a document id, or --all for every document \(not both\)/);
      }
    });

    it('writes NDJSON to a file, and an unknown document is an empty history', async () => {
      const out = join(data.dir, 'notes.ndjson');
      await cli(['export', 'notes', '--out', out, ...dataDir]);
      assert.deepEqual(parseNdjson(readFileSync(out, 'utf8')), ndjson);
      assert.equal(await cli(['export', 'no-such-doc', ...dataDir]), '');
    });
  });

  describe('replay', () => {
    it('rebuilds into a fresh file read models identical to the live ones, row for row', async () => {
      const out = join(data.dir, 'rebuilt.db');
      const r = await runCli(['replay', '--out', out, ...dataDir]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /rebuilt .*rebuilt\.db: 7 ops of 2 documents/);
      assert.match(r.stdout, /identical to .*collab\.db: 2 documents/);
      // Row for row against the live file (open in the server: SQLite's WAL lets us read beside it).
      const rebuilt = await readModelRows(out);
      assert.deepEqual(rebuilt, await readModelRows(join(data.dir, 'collab.db')));
      assert.equal(rebuilt.ops.length, 7);
      assert.equal(rebuilt.heads.length, 2);
    });

    it('exits 3 naming the document when the compared read models differ', async () => {
      const tampered = join(data.dir, 'tampered.db');
      await cli(['replay', '--out', tampered, ...dataDir]);
      const storage = await createSqliteStorage({ path: tampered, partitionCount: 8 });
      storage.database.prepare("DELETE FROM rm_heads WHERE doc_id = 'other'").run();
      await storage.close();
      const r = await runCli(['replay', '--out', join(data.dir, 'third.db'), '--compare-with', tampered, ...dataDir]);
      assert.equal(r.code, 3, r.stderr + r.stdout);
      assert.match(r.stdout, /1 of 2 documents differ[\s\S]*other: only in the rebuilt read models/);
    });

    it('--shadow: a report of the documents that differ (versions, text hashes), exit 3 only with --fail-on-diff', async () => {
      const same = await runCli([
        'replay',
        '--out',
        join(data.dir, 'shadow-1.db'),
        '--shadow',
        '--fail-on-diff',
        ...dataDir,
      ]);
      assert.equal(same.code, 0, same.stderr + same.stdout);
      assert.match(same.stdout, /^2 documents: 2 the same, 0 differ/m);
      // The tampered file (its head of "other" removed) as the live side: "other" is only in the shadow.
      const tampered = join(data.dir, 'tampered.db');
      const args = ['--shadow', '--compare-with', tampered, ...dataDir];
      const differs = await runCli(['replay', '--out', join(data.dir, 'shadow-2.db'), '--fail-on-diff', ...args]);
      assert.equal(differs.code, 3, differs.stderr + differs.stdout);
      assert.match(differs.stdout, /^2 documents: 1 the same, 1 differ/m);
      assert.match(differs.stdout, /^ {2}other: extra-in-shadow \(live none, shadow v\d+ [0-9a-f]{16}\)$/m);
      const reported = await runCli(['replay', '--out', join(data.dir, 'shadow-3.db'), ...args]);
      assert.equal(reported.code, 0, reported.stderr + reported.stdout);
      assert.match(reported.stdout, /other: extra-in-shadow/);
    });

    it('refuses to overwrite an existing file', async () => {
      const r = await runCli(['replay', '--out', join(data.dir, 'rebuilt.db'), ...dataDir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /exists; a replay writes into a fresh file/);
    });

    it('rebuilds in place (server stopped) to the same heads, and documents read the same after', async () => {
      assert.equal(await server.stop('SIGTERM'), 0);
      const r = await runCli(['replay', '--in-place', ...dataDir]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /identical to .*before clearing: 2 documents/);
      assert.equal(await cli(['doc', 'get', 'notes', ...dataDir]), expected.notes);
      assert.equal(await cli(['doc', 'get', 'other', ...dataDir]), expected.other);
    });
  });
});
