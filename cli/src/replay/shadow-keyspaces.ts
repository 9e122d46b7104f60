/**
 * The shadow report between two Cassandra keyspaces: the live one (kept by the running projection-service, maybe
 * of an older release) and the shadow one this release's projection just rebuilt from the log. Documents are
 * listed from each keyspace's heads (a table scan: the ReadModelStore port cannot list); each side's texts come
 * from its own op rows (shadow-diff.ts). Beside each keyspace, the projection version it was built to: the last
 * read-model migration applied to it (schema_migrations).
 */
import { cassandraSecurityOptions, createCassandraReadModelStore } from '@collab/adapter-cassandra';
import { bestEffort } from '@collab/core';
import { readHeads } from '@collab/projection-service';
import cassandra from 'cassandra-driver';
import type { CassandraSettings } from '../config/distributed-config.js';
import { diffShadow, type ShadowReport } from './shadow-diff.js';

export interface KeyspaceReport {
  report: ShadowReport;
  /** Per keyspace, the newest migration applied ("0004_projection_source.cql"), or "none". */
  migrations: { live: string; shadow: string };
}

async function lastMigration(client: cassandra.Client, keyspace: string): Promise<string> {
  const rows = (await client.execute(`SELECT version, name FROM ${keyspace}.schema_migrations`)).rows;
  const last = rows
    .map((r) => ({ version: Number(r.version), name: String(r.name) }))
    .sort((a, b) => b.version - a.version)[0];
  return last === undefined ? 'none' : last.name;
}

export async function diffKeyspaces(
  settings: Pick<CassandraSettings, 'contactPoints' | 'localDataCenter' | 'security'>,
  live: string,
  shadow: string,
): Promise<KeyspaceReport> {
  const client = new cassandra.Client({
    contactPoints: settings.contactPoints,
    localDataCenter: settings.localDataCenter,
    ...cassandraSecurityOptions(settings.security),
  });
  await client.connect();
  try {
    const [liveHeads, shadowHeads, liveMigration, shadowMigration] = await Promise.all([
      readHeads(client, live),
      readHeads(client, shadow),
      lastMigration(client, live),
      lastMigration(client, shadow),
    ]);
    const liveStore = await createCassandraReadModelStore({ client, keyspace: live });
    const shadowStore = await createCassandraReadModelStore({ client, keyspace: shadow });
    try {
      const report = await diffShadow(
        { store: liveStore, docIds: liveHeads.keys() },
        { store: shadowStore, docIds: shadowHeads.keys() },
      );
      return { report, migrations: { live: liveMigration, shadow: shadowMigration } };
    } finally {
      await bestEffort(liveStore.close());
      await bestEffort(shadowStore.close());
    }
  } finally {
    await client.shutdown();
  }
}
