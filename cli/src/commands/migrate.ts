/**
 * `collab migrate` — create or upgrade the storage. Embedded: the SQLite file in the data folder (prints its
 * schema version). Distributed: the Kafka ops topic and the command-service's commands and replies topics, the
 * Cassandra keyspace and tables, the S3 bucket; each step is reported and attempted even if an earlier one failed,
 * so one run shows everything that is wrong.
 */
import { existsSync } from 'node:fs';
import { closeDatabase, migrate as migrateSqlite, openDatabase, schemaVersion } from '@collab/adapter-sqlite';
import { cassandraSecurityOptions, migrate as migrateCassandra } from '@collab/adapter-cassandra';
import { ensureCommandTopics, ensureOpsTopic, kafkaSecurityConfig } from '@collab/adapter-kafka';
import { createS3Client, ensureBucket } from '@collab/adapter-s3';
import cassandra from 'cassandra-driver';
import type { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import type { CassandraSettings, KafkaSettings, S3Settings } from '../config/distributed-config.js';
import { s3Endpoint } from '../storage/distributed.js';
import { loadCommandConfig, need } from '../config/load.js';
import type { EmbeddedConfig } from '../embedded-config.js';
import { EXIT } from '../errors.js';
import { databasePath, openEmbeddedStorage, preparePrivateDatabase } from '../storage/embedded.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

export function registerMigrate(program: Command): void {
  addCommonOptions(
    program
      .command('migrate')
      .description('create or upgrade the storage: the SQLite file (embedded) or the topic, keyspace and bucket'),
  )
    .addHelpText(
      'after',
      `
Embedded: COLLAB_DATA_DIR, COLLAB_PARTITIONS (fixed when the file is created).
Distributed: KAFKA_BROKERS, COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS, COLLAB_COMMANDS_TOPIC, COLLAB_REPLIES_TOPIC,
COLLAB_KAFKA_REPLICATION_FACTOR,
CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC, CASSANDRA_KEYSPACE, CASSANDRA_REPLICATION_FACTOR,
S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET.`,
    )
    .action(
      action(async (opts: CommonOptions) => {
        const config = loadCommandConfig(process.env, opts, ['kafka', 'cassandra', 's3']);
        if (opts.printConfig === true) return printConfig(config);
        if (config.mode === 'embedded') return migrateEmbedded(config.embedded);
        const d = config.distributed;
        const results = [
          await step('kafka', () => migrateKafka(need(d.kafka, 'kafka'))),
          await step('cassandra', () => migrateKeyspace(need(d.cassandra, 'cassandra'))),
          await step('s3', () => migrateBucket(need(d.s3, 's3'))),
        ];
        return results.every(Boolean) ? EXIT.ok : EXIT.failed;
      }),
    );
}

async function migrateEmbedded(config: EmbeddedConfig): Promise<number> {
  const path = databasePath(config);
  const existed = existsSync(path);
  preparePrivateDatabase(config.dataDir, path);
  // Migrate on a bare connection first to learn what this run applied; then the storage records the partitions.
  const opened = openDatabase(path, { busyTimeoutMs: 5_000 });
  let applied: number[];
  try {
    applied = migrateSqlite(opened.db);
  } finally {
    closeDatabase(opened);
  }
  const storage = await openEmbeddedStorage(config, { create: true });
  try {
    const version = schemaVersion(storage.database);
    const what = applied.length === 0 ? 'up to date' : `applied migration(s) ${applied.join(', ')}`;
    console.log(
      `sqlite ${path}: ${existed ? 'opened' : 'created'}, ${what}, schema version ${version}, ${storage.opLog.partitionCount} partitions`,
    );
  } finally {
    await storage.close();
  }
  return EXIT.ok;
}

async function step(name: string, run: () => Promise<string>): Promise<boolean> {
  try {
    console.log(`${name}: ${await run()}`);
    return true;
  } catch (err) {
    console.error(`${name}: FAILED: ${(err as Error).message}`);
    return false;
  }
}

async function migrateKafka(kafka: KafkaSettings): Promise<string> {
  const admin = new Kafka({
    clientId: 'collab-migrate',
    brokers: kafka.brokers,
    connectionTimeout: 5_000,
    retry: { retries: 3 },
    logLevel: logLevel.NOTHING,
    ...kafkaSecurityConfig(kafka.security),
  }).admin();
  await admin.connect();
  try {
    const { created } = await ensureOpsTopic(admin, {
      topic: kafka.topic,
      partitions: kafka.partitions,
      replicationFactor: kafka.replicationFactor,
    });
    // The command-service's command bus: without it the services refuse to start (unless COLLAB_PROVISION=true).
    await ensureCommandTopics(admin, {
      commandsTopic: kafka.commandsTopic,
      repliesTopic: kafka.repliesTopic,
      partitions: kafka.partitions,
      replicationFactor: kafka.replicationFactor,
    });
    return (
      `topic ${kafka.topic} ${created ? 'created' : 'exists'} with ${kafka.partitions} partitions; ` +
      `${kafka.commandsTopic} (${kafka.partitions} partitions) and ${kafka.repliesTopic} ready`
    );
  } finally {
    await admin.disconnect();
  }
}

async function migrateKeyspace(c: CassandraSettings): Promise<string> {
  const client = new cassandra.Client({
    contactPoints: c.contactPoints,
    localDataCenter: c.localDataCenter,
    socketOptions: { connectTimeout: 5_000, readTimeout: 60_000 }, // DDL waits for schema agreement.
    ...cassandraSecurityOptions(c.security),
  });
  try {
    const result = await migrateCassandra(client, {
      keyspace: c.keyspace,
      replication: { class: 'NetworkTopologyStrategy', dataCenters: { [c.localDataCenter]: c.replicationFactor } },
    });
    const names = result.applied.map((m) => m.name).join(', ');
    return `keyspace ${c.keyspace}: ${result.applied.length} migration(s) applied now${names === '' ? '' : ` (${names})`}, ${result.alreadyApplied.length} already applied`;
  } finally {
    await client.shutdown();
  }
}

async function migrateBucket(s3: S3Settings): Promise<string> {
  const client = createS3Client(s3Endpoint(s3));
  try {
    await ensureBucket(client, s3.bucket);
    if (s3.mediaBucket === s3.bucket) return `bucket ${s3.bucket} ready`;
    await ensureBucket(client, s3.mediaBucket);
    return `buckets ${s3.bucket} and ${s3.mediaBucket} (media) ready`;
  } finally {
    client.destroy();
  }
}
