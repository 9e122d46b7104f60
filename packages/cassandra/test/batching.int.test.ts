/**
 * writeOps' batching edge cases against Cassandra, through a client that records what the store sends: rows of a
 * call spanning bucket and day boundaries, ops near and above the batch byte cap (split off, never refused), and
 * no LWT on the write path (heads are versioned plain writes), and the rebuild head mode giving the same heads as
 * the live mode.
 */
import assert from 'node:assert/strict';

import type { Client } from 'cassandra-driver';

import type { OpCommitted, ReadModelStore } from '@collab/core';

import { DEFAULT_BATCH_MAX_BYTES, estimateBytes } from '../src/batches.js';
import { headTimestamp } from '../src/head.js';
import { createCassandraReadModelStore, migrate } from '../src/index.js';
import { lengthDelta } from '../src/op-length.js';
import { connectTestCassandra, dropKeyspace, freshKeyspaceName, TEST_REPLICATION } from './stack.js';

interface Sent {
  kind: 'execute' | 'batch';
  queries: { query: string; params: unknown[] }[];
}

/** The real client, with execute() and batch() recorded. */
function recording(client: Client, sent: Sent[]): Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'execute') {
        return (query: string, params: unknown[], options: unknown) => {
          sent.push({ kind: 'execute', queries: [{ query, params }] });
          return target.execute(query, params, options as never);
        };
      }
      if (prop === 'batch') {
        return (queries: { query: string; params: unknown[] }[], options: unknown) => {
          sent.push({ kind: 'batch', queries });
          return target.batch(queries, options as never);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The partition a row statement writes to: table plus its partition key values. */
function partitionOf(query: string, params: unknown[]): string {
  // UPDATE op_blocks SET ops = ops + ? WHERE doc_id = ? AND bucket = ? ...: the key follows the map.
  const update = /^UPDATE \w+\.(\w+)/.exec(query)?.[1];
  if (update !== undefined) return `${update}:${JSON.stringify(params.slice(1, 3))}`;
  const table = /INTO \w+\.(\w+)/.exec(query)?.[1] ?? '?';
  const keyColumns = table === 'doc_days' || table === 'user_days' || table === 'doc_heads' ? 1 : 2;
  return `${table}:${JSON.stringify(params.slice(0, keyColumns))}`;
}

const DAY = 86_400_000;
const MIDNIGHT = Date.UTC(2026, 10, 21);

describe('Cassandra read-model store: batching', function () {
  const keyspaces: string[] = [];
  let admin: Client | undefined;

  before(async function () {
    admin = (await connectTestCassandra()).client;
  });

  after(async function () {
    if (admin !== undefined) {
      for (const k of keyspaces) await dropKeyspace(admin, k);
      await admin.shutdown();
    }
  });

  async function freshStore(sent: Sent[], options: { headMode?: 'live' | 'rebuild' } = {}): Promise<ReadModelStore> {
    const keyspace = freshKeyspaceName('rms_batch');
    keyspaces.push(keyspace);
    await migrate(admin!, { keyspace, replication: TEST_REPLICATION });
    return createCassandraReadModelStore({ client: recording(admin!, sent), keyspace, bucketSize: 4, ...options });
  }

  /** Versions 1..14 of one document by two users over three UTC days, with a few very large ops. */
  function spanningOps(docId: string): OpCommitted[] {
    const big = (kb: number) => 'x'.repeat(kb * 1024);
    const text: Record<number, string> = { 6: big(40), 7: big(30), 9: big(60) };
    return Array.from({ length: 14 }, (_, i) => {
      const version = i + 1;
      // v1-v4 just before midnight, v5-v10 the next day, v11-v14 the day after.
      const timestamp =
        version <= 4 ? MIDNIGHT - 5 + version : version <= 10 ? MIDNIGHT + version : MIDNIGHT + DAY + version;
      return {
        docId,
        version,
        op: version === 1 ? [text[version] ?? 'é'] : [version - 1, text[version] ?? 'é'],
        baseVersion: version - 1,
        clientId: `c${version % 2}`,
        seq: version,
        userId: `user-${version % 2}`,
        timestamp,
      };
    });
  }

  it('writes a call spanning buckets and days as single-partition batches under the cap; big ops go alone', async function () {
    const sent: Sent[] = [];
    const store = await freshStore(sent);
    try {
      const docId = `doc-${Date.now()}`;
      const ops = spanningOps(docId);
      await store.writeOps([...ops].reverse());

      // Everything is readable and the head is right.
      assert.deepEqual(await store.getOps(docId, 0, 100), ops);
      const length = ops.reduce((sum, o) => sum + lengthDelta(o.op), 0);
      assert.deepEqual(await store.getHead(docId), {
        docId,
        version: 14,
        length,
        lastUserId: 'user-0',
        updatedAt: ops[13]!.timestamp,
      });
      assert.equal(await store.versionAt(docId, MIDNIGHT - 1), 4);
      assert.equal(await store.versionAt(docId, MIDNIGHT + DAY - 1), 10);
      assert.equal(await store.versionAt(docId, MIDNIGHT + 2 * DAY), 14);
      const activity = await store.userActivity('user-1', { limit: 100 });
      assert.deepEqual(
        activity.map((a) => a.version),
        [13, 11, 9, 7, 5, 3, 1],
      );

      // Every batch is one partition and within the byte cap.
      const batches = sent.filter((s) => s.kind === 'batch');
      assert.ok(batches.length > 0, 'rows sharing a partition are batched');
      for (const b of batches) {
        assert.equal(new Set(b.queries.map((q) => partitionOf(q.query, q.params))).size, 1, 'one partition per batch');
        assert.ok(b.queries.reduce((sum, q) => sum + estimateBytes(q.params), 0) <= DEFAULT_BATCH_MAX_BYTES);
      }
      // The ops go to their blocks (migration 0003): one write per (bucket, block) — bucket size 4 here, so each
      // bucket is within one block — cut where a write would pass 32 KiB. Bucket 1 (v4-v7: 40 + 30 KiB ops) is
      // three writes over two sends; v9 (60 KiB, above the batch cap) is a write of its own, sent alone.
      const blockWrites = sent.flatMap((s, index) =>
        s.queries
          .filter((q) => q.query.startsWith('UPDATE') && q.query.includes('.op_blocks '))
          .map((q) => ({
            kind: s.kind,
            index,
            // Keys are places in the block (version - 64 * block); blocks here are 0 (versions 0..63).
            versions: Object.keys(q.params[0] as object).map((place) => Number(q.params[3]) * 64 + Number(place)),
          })),
      );
      assert.deepEqual(
        blockWrites.map((w) => w.versions).sort((a, b) => a[0]! - b[0]!),
        [[1, 2, 3], [4, 5], [6], [7], [8], [9], [10, 11], [12, 13, 14]],
      );
      const writeOf = (v: number) => blockWrites.find((w) => w.versions.includes(v))!;
      assert.equal(writeOf(9).kind, 'execute');
      assert.notEqual(writeOf(6).index, writeOf(7).index, '40 + 30 KiB in one partition: split over two sends');
      assert.equal(writeOf(4).index, writeOf(6).index, 'writes of one partition under the cap: one batch');
      // No Paxos anywhere on the write path: the head is a plain write timestamped by its version.
      assert.ok(!sent.some((s) => s.queries.some((q) => / IF /.test(q.query))), 'no LWT');
      assert.ok(
        sent.some((s) => s.queries.some((q) => q.query.includes('.doc_heads ') && q.query.includes('USING TIMESTAMP'))),
      );
    } finally {
      await store.close();
    }
  });

  it('heads win by version: a late older head changes nothing; a head the old compare-and-set wrote is moved past', async function () {
    const sent: Sent[] = [];
    const store = await freshStore(sent);
    const keyspace = keyspaces[keyspaces.length - 1]!;
    try {
      const docId = `doc-${Date.now()}`;
      const ops = spanningOps(docId);
      // Written as the compare-and-set code did: a cell timestamp from the clock (µs since 1970), not the version.
      await admin!.execute(
        `INSERT INTO ${keyspace}.doc_heads (doc_id, version, length, last_user_id, updated_at) VALUES (?, 0, 0, 'x', ?)`,
        [docId, new Date(MIDNIGHT)],
        { prepare: true },
      );
      await store.writeOps(ops.slice(0, 5));
      const head5 = await store.getHead(docId);
      assert.equal(head5?.version, 5);
      // A timed-out head write of version 2 that lands now, after version 5's.
      await admin!.execute(
        `INSERT INTO ${keyspace}.doc_heads (doc_id, version, length, last_user_id, updated_at) VALUES (?, 2, 2, 'x', ?) USING TIMESTAMP ?`,
        [docId, new Date(MIDNIGHT), headTimestamp(2)],
        { prepare: true },
      );
      assert.deepEqual(await store.getHead(docId), head5);
      // A second store (another projector after a rebalance) replays from older ops: the same head, then on.
      const other = await createCassandraReadModelStore({ client: admin!, keyspace, bucketSize: 4 });
      try {
        await other.writeOps(ops.slice(2, 8));
        await store.writeOps(ops.slice(0, 4)); // this store still knows head 5: a replay, nothing moves
        assert.equal((await store.getHead(docId))?.version, 8);
        await store.writeOps(ops.slice(8, 10)); // from its known head 5, it reads 6..8 back and moves on
        assert.deepEqual(await store.getHead(docId), await other.getHead(docId));
        assert.equal((await other.getHead(docId))?.version, 10);
        assert.equal(
          (await other.getHead(docId))?.length,
          ops.slice(0, 10).reduce((n, o) => n + lengthDelta(o.op), 0),
        );
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
    }
  });

  it("headMode 'rebuild' (fresh keyspace): same heads as the live mode over gaps, duplicates and late ops, no LWT", async function () {
    const liveSent: Sent[] = [];
    const rebuildSent: Sent[] = [];
    const live = await freshStore(liveSent);
    const rebuild = await freshStore(rebuildSent, { headMode: 'rebuild' });
    try {
      const docId = `doc-${Date.now()}`;
      const ops = spanningOps(docId);
      const v = (...versions: number[]) => versions.map((n) => ops[n - 1]!);
      const steps: [OpCommitted[], number | undefined][] = [
        [v(2, 3), undefined], // v1 missing: no head
        [v(1, 2, 5), 3], // v4 missing
        [v(4), 5], // fills the gap from ops already stored
        [v(1, 2, 3), 5], // replay of old ops: nothing moves
        [v(6, 7, 8, 10, 11), 8],
        [v(9, 12), 12],
        [v(13, 14, 14), 14],
      ];
      for (const [batch, expected] of steps) {
        await live.writeOps(batch);
        await rebuild.writeOps(batch);
        const [a, b] = [await live.getHead(docId), await rebuild.getHead(docId)];
        assert.equal(b?.version, expected);
        assert.deepEqual(b, a);
      }
      assert.deepEqual(await rebuild.getOps(docId, 0, 100), ops);
      assert.ok(!rebuildSent.some((s) => s.queries.some((q) => / IF /.test(q.query))), 'no LWT in rebuild mode');
      // The second document: its head is written without first reading it (the keyspace was fresh).
      const before = rebuildSent.length;
      await rebuild.writeOps(spanningOps(`${docId}-b`).slice(0, 3));
      const reads = rebuildSent.slice(before).filter((s) => s.queries.some((q) => q.query.startsWith('SELECT')));
      assert.equal(reads.length, 0);
      assert.equal((await rebuild.getHead(`${docId}-b`))?.version, 3);
    } finally {
      await live.close();
      await rebuild.close();
    }
  });
});
