/**
 * `collab replay --shadow` in the distributed mode, as a child process against the integration stack's Kafka and
 * Cassandra: the log replayed into a fresh shadow keyspace beside a live one, and the report of differences.
 * When the live read models are what the log says, the report finds none (exit 0 with --fail-on-diff). Once the
 * live keyspace is altered behind the projection's back — one op row's text changed, one document's head removed,
 * one document written that the log does not have — the report names exactly those three documents, each with
 * what differs, and --fail-on-diff exits 3 (without it, 0 with the same report).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type OpCommitted, type OpLog, type ReadModelStore } from '@collab/core';
import { loadMigrations } from '@collab/adapter-cassandra';
import { useStack } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { runCli } from './support/cli.js';
import * as distributed from './support/distributed.js';

const PARTITIONS = 3;
const DOCS = 5;
const VERSIONS = 40;

const opOf = (docId: string, version: number) => distributed.appendingOp(docId, version, Date.now());

describe('collab replay --shadow on Kafka and Cassandra', function () {
  this.timeout(300_000);
  const suffix = randomBytes(4).toString('hex');
  const topic = `test.shadow.${suffix}`;
  const live = `shadow_live_${suffix}`;
  const shadows: string[] = [];
  let log: OpLog;
  let client: cassandra.Client;
  let liveStore: ReadModelStore;
  let ops: distributed.OpsTopic;
  let liveKeyspace: distributed.TestKeyspace;
  let env: NodeJS.ProcessEnv;

  const replayShadow = async (...flags: string[]) => {
    const keyspace = `shadow_${shadows.length}_${suffix}`;
    shadows.push(keyspace);
    return runCli(['replay', '--keyspace', keyspace, '--shadow', '--no-progress', ...flags], env);
  };

  before(async () => {
    const stack = await useStack();
    ops = await distributed.freshOpsTopic(stack.kafka.brokers, topic, PARTITIONS);
    log = ops.log;
    const all: OpCommitted[] = [];
    for (let v = 1; v <= VERSIONS; v++) for (let d = 0; d < DOCS; d++) all.push(opOf(`doc-${d}`, v));
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = all.filter((o) => log.partitionFor(o.docId) === p);
      if (mine.length === 0) continue;
      const writer = await log.openWriter(p);
      for (let i = 0; i < mine.length; i += 50) await writer.append(mine.slice(i, i + 50).map((value) => ({ value })));
      await writer.close();
    }
    // The live read models, written by the projection's store as the projection-service writes them.
    liveKeyspace = await distributed.freshKeyspace(stack, live);
    client = liveKeyspace.client;
    liveStore = liveKeyspace.store;
    await liveStore.writeOps(all);
    env = distributed.distributedEnv(stack, ops, PARTITIONS, live);
  });

  after(async () => {
    await ops?.remove();
    await liveKeyspace?.remove(...shadows);
  });

  it('reports no difference when the live read models are what the log says (exit 0 with --fail-on-diff)', async () => {
    const r = await replayShadow('--fail-on-diff');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`rebuilt keyspace shadow_0_${suffix}: ${DOCS * VERSIONS} ops of ${DOCS}`));
    // Both keyspaces are migrated to this release's newest migration, and the header says so.
    const newest = (await loadMigrations()).at(-1)!.name;
    assert.ok(r.stdout.includes(`(shadow, migrations to ${newest})`), r.stdout);
    assert.ok(r.stdout.includes(`(live, migrations to ${newest})`), r.stdout);
    assert.match(r.stdout, new RegExp(`^${DOCS} documents: ${DOCS} the same, 0 differ`, 'm'));
  });

  it('names each altered document and what differs, and exits 3 with --fail-on-diff', async () => {
    // doc-2's op 30 inserts "Z" instead of "y" in the live keyspace's op row (its head is untouched).
    const rows = await client.execute(
      `SELECT bucket, block, ops FROM ${live}.op_blocks WHERE doc_id = ? ALLOW FILTERING`,
      ['doc-2'],
    );
    let altered = 0;
    for (const row of rows.rows) {
      const ops = row.ops as Record<string, string>;
      for (const [place, entry] of Object.entries(ops)) {
        const parsed = JSON.parse(entry) as [number, string, number, string, number, unknown];
        if (parsed[0] !== 29) continue; // the op whose base version is 29: version 30
        parsed[5] = [29, 'Z'];
        await client.execute(
          `UPDATE ${live}.op_blocks SET ops[?] = ? WHERE doc_id = ? AND bucket = ? AND block = ?`,
          [Number(place), JSON.stringify(parsed), 'doc-2', row.bucket, row.block],
          { prepare: true },
        );
        altered++;
      }
    }
    assert.equal(altered, 1, 'the test must alter one op row');
    // doc-4 is gone from the live keyspace (its head and op rows); "stray" is there, and in no log.
    // (A head is written USING TIMESTAMP 2^52 + version, packages/cassandra/README.md: a delete must be later.)
    await client.execute(`DELETE FROM ${live}.doc_heads USING TIMESTAMP ${2 ** 53} WHERE doc_id = ?`, ['doc-4'], {
      prepare: true,
    });
    const blocks = await client.execute(`SELECT bucket FROM ${live}.op_blocks WHERE doc_id = ? ALLOW FILTERING`, [
      'doc-4',
    ]);
    for (const bucket of new Set(blocks.rows.map((r) => String(r.bucket)))) {
      await client.execute(`DELETE FROM ${live}.op_blocks WHERE doc_id = ? AND bucket = ?`, ['doc-4', bucket], {
        prepare: true,
      });
    }
    await liveStore.writeOps([opOf('stray', 1), opOf('stray', 2)]);

    const failing = await replayShadow('--fail-on-diff');
    assert.equal(failing.code, 3, failing.stdout + failing.stderr);
    assert.match(failing.stdout, new RegExp(`^${DOCS + 1} documents: ${DOCS - 2} the same, 3 differ`, 'm'));
    const listed = failing.stdout.split('\n').filter((l) => l.startsWith('  '));
    assert.equal(listed.length, 3, failing.stdout);
    assert.match(
      listed[0]!,
      /^ {2}doc-2: text-differs at version 40: live [0-9a-f]{16}, shadow [0-9a-f]{16} \(heads: live v40 .*, shadow v40 /,
    );
    assert.match(listed[1]!, /^ {2}doc-4: extra-in-shadow \(live none, shadow v40 [0-9a-f]{16}\)$/);
    assert.match(listed[2]!, /^ {2}stray: missing-in-shadow \(live v2 [0-9a-f]{16}, shadow none\)$/);

    const reportOnly = await replayShadow();
    assert.equal(reportOnly.code, 0, reportOnly.stdout + reportOnly.stderr);
    assert.deepEqual(
      reportOnly.stdout.split('\n').filter((l) => l.startsWith('  ')),
      listed,
      'the same report, exit 0 without --fail-on-diff',
    );
  });
});
