/**
 * The real stack for the integration tests: a fresh ops topic and fresh keyspaces per run (dropped afterwards),
 * appending generated ops through the Kafka OpLog, dumping tables to compare keyspaces row by row, and bounded
 * polling for things that happen in another consumer or process.
 */
import { randomBytes } from 'node:crypto';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createKafkaOpLog, ensureOpsTopic } from '@collab/adapter-kafka';
import type { OpCommitted, OpLog, ReadModelStore } from '@collab/core';
import { bestEffort } from '@collab/core';
import { useStack } from '@collab/infra';
import cassandra from 'cassandra-driver';
import type { Client } from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { countOps } from '../../src/consistency.js';

export const suffix = () => randomBytes(4).toString('hex');
export const TEST_REPLICATION = { class: 'SimpleStrategy', replicationFactor: 1 } as const;
export const TABLES = [
  'op_blocks',
  'doc_heads',
  'version_times',
  'user_doc_buckets',
  // Migration 0001's tables: no longer written (0002; `ops` since 0003), kept in the dumps so a stray write shows.
  'ops',
  'versions_by_time',
  'doc_days',
  'user_activity',
  'user_days',
] as const;

export interface TestTopic {
  topic: string;
  partitions: number;
  brokers: string[];
}

export async function freshTopic(partitions = 4): Promise<TestTopic> {
  const stack = await useStack();
  const topic = `test.projection.${suffix()}`;
  const admin = new Kafka({ clientId: 'test-admin', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await ensureOpsTopic(admin, { topic, partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return { topic, partitions, brokers: stack.kafka.brokers };
}

export async function deleteTopic(t: TestTopic): Promise<void> {
  const admin = new Kafka({ clientId: 'test-admin', brokers: t.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await bestEffort(admin.deleteTopics({ topics: [t.topic] }));
  } finally {
    await admin.disconnect();
  }
}

export const openLog = (t: TestTopic, clientId = `test-${suffix()}`): Promise<OpLog> =>
  createKafkaOpLog({ brokers: t.brokers, topic: t.topic, partitionCount: t.partitions, clientId });

/** Appends through one writer per partition, in transactions of `chunk` records, keeping each doc's order. */
export async function appendOps(log: OpLog, ops: readonly OpCommitted[], chunk = 1_000): Promise<void> {
  const byPartition = new Map<number, OpCommitted[]>();
  for (const op of ops) {
    const p = log.partitionFor(op.docId);
    const list = byPartition.get(p);
    if (list === undefined) byPartition.set(p, [op]);
    else list.push(op);
  }
  await Promise.all(
    [...byPartition].map(async ([partition, list]) => {
      const writer = await log.openWriter(partition);
      try {
        for (let i = 0; i < list.length; i += chunk) {
          await writer.append(list.slice(i, i + chunk).map((value) => ({ value })));
        }
      } finally {
        await writer.close();
      }
    }),
  );
}

export interface TestCassandra {
  client: Client;
  contactPoints: string[];
  localDataCenter: string;
}

export async function connectCassandra(): Promise<TestCassandra> {
  const { cassandra: endpoints } = await useStack();
  const client = new cassandra.Client({
    contactPoints: endpoints.contactPoints,
    localDataCenter: endpoints.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 30_000 },
  });
  await client.connect();
  return { client, contactPoints: endpoints.contactPoints, localDataCenter: endpoints.localDataCenter };
}

export const freshKeyspaceName = (prefix = 'proj_test') => `${prefix}_${suffix()}`;

export async function freshStore(client: Client, keyspace = freshKeyspaceName()): Promise<ReadModelStore> {
  await migrate(client, { keyspace, replication: TEST_REPLICATION });
  return createCassandraReadModelStore({ client, keyspace });
}

export async function dropKeyspace(client: Client, keyspace: string): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
}

/** A cell as text; a map (op_blocks.ops) as JSON with its keys in order, so equal maps print equal. */
const cell = (value: unknown): string =>
  typeof value === 'object' && value !== null && !(value instanceof Date) && value.constructor === Object
    ? JSON.stringify(Object.entries(value).sort(([a], [b]) => Number(a) - Number(b)))
    : String(value);

/** Every row of every read-model table, as sorted JSON lines per table: equal dumps mean identical rows. */
export async function dumpKeyspace(client: Client, keyspace: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows: string[] = [];
    let pageState: string | undefined;
    do {
      const r = await client.execute(`SELECT * FROM ${keyspace}.${table}`, [], { fetchSize: 5_000, pageState });
      for (const row of r.rows) {
        const entries = Object.keys(row)
          .sort()
          .map((k) => [k, cell((row as Record<string, unknown>)[k])]);
        rows.push(JSON.stringify(entries));
      }
      pageState = r.pageState ?? undefined;
    } while (pageState !== undefined);
    out[table] = rows.sort();
  }
  return out;
}

/** Bounded polling, for effects of another consumer or process (Kafka gives us nothing to await). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Op versions stored (in op_blocks, and in the 0001 `ops` table should anything write there). */
export async function countStoredOps(client: Client, keyspace: string): Promise<number> {
  return [...(await countOps(client, keyspace)).values()].reduce((a, b) => a + b, 0);
}

export async function countRows(client: Client, keyspace: string, table: string): Promise<number> {
  const r = await client.execute(`SELECT COUNT(*) AS n FROM ${keyspace}.${table}`);
  return Number(r.first()?.get('n') ?? 0);
}
