/**
 * The indexes of migration 0002 beyond what the shared contract covers (it runs with bucket size 4, so one
 * index point per bucket): sparse index points with several per bucket and a binary search over many buckets,
 * users sharing documents, replays writing nothing new, and keyspaces that hold rows written before 0002 (in
 * the 0001 tables), whose answers must stay exact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import type { Client } from 'cassandra-driver';

import type { OpCommitted, ReadModelStore, UserActivity } from '@collab/core';

import { createCassandraReadModelStore, migrate } from '../src/index.js';
import { dayOf } from '../src/writes.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

const T0 = Date.UTC(2025, 2, 1, 8, 0, 0);
const id = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;

/** `count` one-character inserts; version v at T0 + times(v), by users[v % users.length]. */
function history(docId: string, count: number, users: string[], time: (v: number) => number): OpCommitted[] {
  return Array.from({ length: count }, (_, i) => {
    const version = i + 1;
    const userId = users[version % users.length] as string;
    return {
      docId,
      version,
      op: i === 0 ? ['x'] : [i, 'x'],
      baseVersion: version - 1,
      clientId: `${userId}-c`,
      seq: version,
      userId,
      timestamp: T0 + time(version),
    };
  });
}

/** The exact answers, from the ops themselves. */
const expectedVersionAt = (ops: OpCommitted[], t: number) =>
  ops.filter((o) => o.timestamp <= t).reduce((max, o) => Math.max(max, o.version), 0);
const expectedActivity = (ops: OpCommitted[], userId: string, limit: number): UserActivity[] =>
  ops
    .filter((o) => o.userId === userId)
    .sort(
      (a, b) =>
        b.timestamp - a.timestamp || (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0) || b.version - a.version,
    )
    .slice(0, limit)
    .map((o) => ({ userId, docId: o.docId, version: o.version, timestamp: o.timestamp }));

describe('Cassandra read-model store: bucketed indexes (migration 0002)', function () {
  this.timeout(120_000);
  const keyspace = freshKeyspaceName('idx_test');
  let admin: Client;
  const stores: ReadModelStore[] = [];
  const store = async (bucketSize: number) => {
    const s = await createCassandraReadModelStore({ client: admin, keyspace, bucketSize });
    stores.push(s);
    return s;
  };

  before(async function () {
    admin = (await connectTestCassandra()).client;
    await migrate(admin, { keyspace, replication: TEST_REPLICATION });
  });
  after(async function () {
    await Promise.all(stores.map((s) => s.close()));
    if (admin !== undefined) {
      await dropKeyspace(admin, keyspace);
      await admin.shutdown();
    }
  });

  it('versionAt is exact at, between and around every op: several index points per bucket, many buckets', async function () {
    const s = await store(100); // K = 64: points 1, 65, 129, ... two per bucket at most, 10 buckets
    const docId = id('doc');
    // Irregular gaps, runs of equal times, and a few long pauses across days.
    const gap = (v: number) => (v % 97 === 0 ? 3 * 86_400_000 : v % 5 === 0 ? 0 : 1_000 + (v % 7) * 300);
    let t = 0;
    const times = new Map<number, number>();
    for (let v = 1; v <= 1_000; v++) times.set(v, (t += gap(v)));
    const ops = history(docId, 1_000, ['u1'], (v) => times.get(v) as number);
    for (let i = 0; i < ops.length; i += 150) await s.writeOps(ops.slice(i, i + 150));
    const probes = new Set<number>([T0 - 1, T0, T0 + t + 1, T0 + t + 86_400_000]);
    for (let v = 1; v <= 1_000; v += v < 140 ? 1 : 13) {
      const at = T0 + (times.get(v) as number);
      for (const p of [at - 1, at, at + 1]) probes.add(p);
    }
    for (const p of probes) assert.equal(await s.versionAt(docId, p), expectedVersionAt(ops, p), `at ${p - T0}`);
  });

  it('userActivity is exact across documents and buckets, with users sharing documents, and replays change nothing', async function () {
    const s = await store(10);
    const users = [id('user'), id('user'), id('user')];
    const docs = [id('doc'), id('doc'), id('doc'), id('doc')];
    // Interleaved in time: document d's version v at (v * 4 + d) seconds.
    const ops = docs.flatMap((docId, d) =>
      history(docId, 37 + d * 11, users.slice(0, 1 + (d % 3)), (v) => (v * 4 + d) * 1_000),
    );
    await s.writeOps(ops);
    await s.writeOps(ops.filter((o) => o.version % 3 === 0)); // a replay of some
    for (const user of users) {
      for (const limit of [1, 5, 17, 50, 1_000]) {
        assert.deepEqual(await s.userActivity(user, { limit }), expectedActivity(ops, user, limit), `${user} ${limit}`);
      }
    }
  });

  it('a keyspace with rows written before 0002 (in the 0001 tables) keeps exact answers for old and new ops', async function () {
    const s = await store(4);
    const user = id('user');
    const docId = id('doc');
    const ops = history(docId, 30, [user, id('other')], (v) => v * 5 * 3_600_000); // crosses days
    // Versions 1..13 as the 0001 code wrote them: op rows, versions_by_time, doc_days, user_activity, user_days.
    const q = (table: string, cols: string[]) =>
      `INSERT INTO ${keyspace}.${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    for (const o of ops.slice(0, 13)) {
      const day = dayOf(o.timestamp);
      const ts = new Date(o.timestamp);
      const cols = ['doc_id', 'bucket', 'version', 'op', 'base_version', 'client_id', 'seq', 'user_id', 'ts'];
      const params = [docId, Math.floor(o.version / 4), o.version, JSON.stringify(o.op), o.baseVersion];
      await admin.execute(q('ops', cols), [...params, o.clientId, o.seq, o.userId, ts], { prepare: true });
      await admin.execute(q('versions_by_time', ['doc_id', 'day', 'ts', 'version']), [docId, day, ts, o.version], {
        prepare: true,
      });
      await admin.execute(q('doc_days', ['doc_id', 'day']), [docId, day], { prepare: true });
      const activity = ['user_id', 'day', 'ts', 'doc_id', 'version'];
      await admin.execute(q('user_activity', activity), [o.userId, day, ts, docId, o.version], { prepare: true });
      await admin.execute(q('user_days', ['user_id', 'day']), [o.userId, day], { prepare: true });
    }
    // The head as the 0001 projector left it (each op inserts one character), then the rest written by this
    // version: versions 1..13 exist only in the 0001 tables, 14..30 only in op_runs and the 0002 indexes.
    await admin.execute(
      `INSERT INTO ${keyspace}.doc_heads (doc_id, version, length, last_user_id, updated_at) VALUES (?, 13, 13, ?, ?)`,
      [docId, ops[12]!.userId, new Date(ops[12]!.timestamp)],
      { prepare: true },
    );
    await s.writeOps(ops.slice(13));
    assert.equal((await s.getHead(docId))?.version, 30);
    for (const o of ops) {
      for (const p of [o.timestamp - 1, o.timestamp]) {
        assert.equal(await s.versionAt(docId, p), expectedVersionAt(ops, p), `at version ${o.version}`);
      }
    }
    for (const limit of [1, 4, 10, 20, 100]) {
      assert.deepEqual(await s.userActivity(user, { limit }), expectedActivity(ops, user, limit), `limit ${limit}`);
    }
    // The ops themselves (0003): old rows and runs merged, in either direction.
    assert.deepEqual(await s.getOps(docId, 0), ops);
    assert.deepEqual(await s.getOps(docId, 11, 17), ops.slice(10, 16));
    assert.deepEqual(await s.getOps(docId, 12, undefined, 5), ops.slice(11, 16));
    const page = await s.history(docId, { limit: 20 });
    assert.deepEqual(
      page.items.map((h) => h.version),
      Array.from({ length: 20 }, (_, i) => 30 - i),
    );
    const rest = await s.history(docId, { limit: 20, cursor: page.next! });
    assert.deepEqual(
      rest.items.map((h) => [h.version, h.userId, h.clientId, h.timestamp]),
      ops
        .slice(0, 10)
        .reverse()
        .map((o) => [o.version, o.userId, o.clientId, o.timestamp]),
    );
  });
});
