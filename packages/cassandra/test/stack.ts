/**
 * Test helpers: a connected admin client on the integration stack and a fresh keyspace per test run, dropped
 * afterwards. Endpoints come only from useStack().
 */
import { randomBytes } from 'node:crypto';

import cassandra from 'cassandra-driver';
import type { Client } from 'cassandra-driver';

import { useStack } from '@collab/infra';

export interface TestCassandra {
  client: Client;
  contactPoints: string[];
  localDataCenter: string;
}

export async function connectTestCassandra(): Promise<TestCassandra> {
  const { cassandra: endpoints } = await useStack();
  const client = new cassandra.Client({
    contactPoints: endpoints.contactPoints,
    localDataCenter: endpoints.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 30_000 },
  });
  await client.connect();
  return { client, contactPoints: endpoints.contactPoints, localDataCenter: endpoints.localDataCenter };
}

export const freshKeyspaceName = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function dropKeyspace(client: Client, keyspace: string): Promise<void> {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
}

export const TEST_REPLICATION = { class: 'SimpleStrategy', replicationFactor: 1 } as const;
