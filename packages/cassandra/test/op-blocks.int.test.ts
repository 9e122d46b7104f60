/**
 * Ops stored in blocks (migration 0003) against Cassandra: one document written the ways the projection writes
 * it — single ops out of order (live), long calls (rebuild), slices redelivered with other boundaries — with a
 * bucket size that blocks straddle. The rows must equal those of the same ops written in one call, and every
 * read must come out exact: getOps over a grid of ranges and limits, history page by page, user activity, with
 * the default page size and with pages of 3 rows.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import type { Client } from 'cassandra-driver';

import type { OpCommitted, ReadModelStore } from '@collab/core';

import { createCassandraReadModelStore, migrate } from '../src/index.js';
import { BLOCK_SIZE } from '../src/op-blocks.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

const N = 700;
const BUCKET = 150;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const USERS = ['ann', 'bo', 'cy'];

function history(docId: string): OpCommitted[] {
  return Array.from({ length: N }, (_, i) => {
    const version = i + 1;
    const userId = USERS[(version * 7) % 3 === 0 ? 0 : version % 5 === 0 ? 1 : 2] as string;
    return {
      docId,
      version,
      op: i === 0 ? ['a'] : [i % 50, version % 9 === 0 ? '😀' : 'x'],
      baseVersion: version - 1 - (version % 3),
      clientId: `${userId}-client`,
      seq: version * 2,
      userId,
      timestamp: T0 + version * 1_000 + (version % 4) * 100,
    };
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Cassandra read-model store: ops in blocks (migration 0003)', function () {
  this.timeout(120_000);
  const keyspace = freshKeyspaceName('runs_test');
  let admin: Client;
  let store: ReadModelStore;
  let readers: ReadModelStore[] = [];
  const docId = `doc-${randomBytes(4).toString('hex')}`;
  const rebuiltId = `${docId}-rebuilt`;
  const ops = history(docId);
  const at = (versions: number[]) => versions.map((v) => ops[v - 1] as OpCommitted);

  before(async function () {
    admin = (await connectTestCassandra()).client;
    await migrate(admin, { keyspace, replication: TEST_REPLICATION });
    store = await createCassandraReadModelStore({ client: admin, keyspace, bucketSize: BUCKET });

    // Live: one op per call, newest first, so the head only moves when version 1 lands.
    for (const v of range(1, 40).reverse()) await store.writeOps(at([v]));
    assert.equal((await store.getHead(docId))?.version, 40);
    // A rebuild-sized call overlapping the live ops, then 17-op slices across two bucket boundaries, last first.
    await store.writeOps(at(range(30, 200)));
    for (let from = 443; from >= 180; from -= 17) await store.writeOps(at(range(from, Math.min(from + 16, 450))));
    assert.equal((await store.getHead(docId))?.version, 450);
    // Ops past a gap are stored but not part of the document until the gap fills.
    await store.writeOps(at(range(460, N)));
    assert.equal((await store.getHead(docId))?.version, 450);
    await store.writeOps(at(range(451, 459)));
    assert.equal((await store.getHead(docId))?.version, N);
    // Redeliveries cut differently: overlapping runs.
    await store.writeOps(at(range(100, 170)));
    await store.writeOps(at([333]));
    await store.writeOps(at(range(600, 650)));
    // And the top of the document again one op at a time.
    for (const v of range(601, N)) if (v !== 650) await store.writeOps(at([v]));
    // The same ops under another id, in one call: what a rebuild writes.
    await store.writeOps(ops.map((o) => ({ ...o, docId: rebuiltId })));
    // Readers with tiny pages, so reads stop early and resume across pages.
    readers = [
      store,
      await createCassandraReadModelStore({ client: admin, keyspace, bucketSize: BUCKET, pageSize: 3 }),
    ];
  });

  after(async function () {
    await Promise.all(readers.map((r) => r.close()));
    if (admin !== undefined) {
      await dropKeyspace(admin, keyspace);
      await admin.shutdown();
    }
  });

  it('stores one row per block, never across a bucket, identical however the ops were batched', async function () {
    const blocks = async (id: string) => {
      const rows = [];
      for (let bucket = 0; bucket <= Math.floor(N / BUCKET); bucket++) {
        const cql = `SELECT bucket, block, ops FROM ${keyspace}.op_blocks WHERE doc_id = ? AND bucket = ?`;
        rows.push(...(await admin.execute(cql, [id, bucket], { prepare: true })).rows);
      }
      return rows.map((r) => {
        const [bucket, block] = [Number(r['bucket']), Number(r['block'])];
        const versions = Object.keys(r['ops'] as object).map((place) => block * BLOCK_SIZE + Number(place));
        for (const v of versions) {
          assert.equal(Math.floor(v / BUCKET), bucket, `version ${v} in bucket ${bucket}`);
          assert.equal(Math.floor(v / BLOCK_SIZE), block, `version ${v} in block ${block}`);
        }
        return JSON.stringify([bucket, block, r['ops']]);
      });
    };
    const live = await blocks(docId);
    // Blocks of 64 over 700 versions, plus one extra row where a block straddles a bucket boundary.
    const straddling = range(1, N).filter((v) => v % BUCKET === 0 && v % BLOCK_SIZE !== 0).length;
    assert.equal(live.length, Math.floor(N / BLOCK_SIZE) + 1 + straddling);
    assert.deepEqual(live.sort(), (await blocks(rebuiltId)).sort());
  });

  it('getOps is exact for every range and limit, across runs, overlaps and buckets', async function () {
    const froms = [0, 1, 2, 39, 40, 41, 63, 64, 65, 149, 150, 151, 199, 200, 201, 299, 300, 333, 450, 699, 700, 701];
    for (const [r, reader] of readers.entries()) {
      for (const from of froms) {
        for (const to of [undefined, from + 1, from + 64, from + 200, N + 1]) {
          for (const limit of [undefined, 1, 7, 64, 65, 1_000]) {
            const end = Math.min(to ?? N + 1, N + 1);
            const expected = ops.slice(Math.max(from, 1) - 1, Math.max(end - 1, Math.max(from, 1) - 1));
            assert.deepEqual(
              await reader.getOps(docId, from, to, limit),
              expected.slice(0, limit ?? Infinity),
              `reader ${r}: getOps(${from}, ${to}, ${limit})`,
            );
          }
        }
      }
    }
  });

  it('history pages newest first through every version exactly once', async function () {
    for (const [r, reader] of readers.entries()) {
      for (const limit of [1, 13, 64, 100, 1_000]) {
        const seen: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await reader.history(docId, { limit, ...(cursor !== undefined ? { cursor } : {}) });
          for (const h of page.items) {
            const o = ops[h.version - 1] as OpCommitted;
            assert.deepEqual(h, { version: o.version, userId: o.userId, clientId: o.clientId, timestamp: o.timestamp });
            seen.push(h.version);
          }
          cursor = page.next;
        } while (cursor !== undefined && seen.length <= N);
        assert.deepEqual(seen, range(1, N).reverse(), `reader ${r}: limit ${limit}`);
      }
    }
  });

  it('userActivity is exact per user and limit', async function () {
    for (const [r, reader] of readers.entries()) {
      for (const userId of USERS) {
        // Both documents, newest first; equal times: by document id (docId sorts before rebuiltId).
        const mine = ops
          .filter((o) => o.userId === userId)
          .reverse()
          .flatMap((o) => [o, { ...o, docId: rebuiltId }]);
        for (const limit of [1, 10, 64, 100, 1_000]) {
          assert.deepEqual(
            await reader.userActivity(userId, { limit }),
            mine.slice(0, limit).map((o) => ({ userId, docId: o.docId, version: o.version, timestamp: o.timestamp })),
            `reader ${r}: ${userId} limit ${limit}`,
          );
        }
      }
    }
  });
});
