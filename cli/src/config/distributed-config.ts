/**
 * Configuration of the CLI's distributed commands (migrate, doc, export, replay against Kafka, Cassandra and S3):
 * environment variables — the same names the services read — validated at once, every problem listed. A command
 * asks only for the sections it uses, so `doc get` does not demand KAFKA_BROKERS.
 */
import { z } from 'zod';
import { ConfigProblems } from '../embedded-config.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
const hosts = list.pipe(z.array(z.string()).min(1, 'give at least one host:port'));
const identifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,47}$/, 'use [A-Za-z0-9_], starting with a letter');

const Sections = {
  kafka: z.object({
    KAFKA_BROKERS: hosts,
    COLLAB_OPS_TOPIC: z.string().min(1).default('collab.ops'),
    COLLAB_OPS_PARTITIONS: int(1, 10_000).default(12),
    COLLAB_KAFKA_REPLICATION_FACTOR: int(1, 16).default(1),
  }),
  cassandra: z.object({
    CASSANDRA_CONTACT_POINTS: hosts,
    CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
    CASSANDRA_KEYSPACE: identifier.default('collab'),
    CASSANDRA_REPLICATION_FACTOR: int(1, 32).default(1),
  }),
  s3: z.object({
    S3_ENDPOINT: z.string().url().optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_BUCKET: z.string().min(3).default('collab-snapshots'),
    S3_PREFIX: z.string().default(''),
  }),
};

export type Section = keyof typeof Sections;

export interface KafkaSettings {
  brokers: string[];
  topic: string;
  partitions: number;
  replicationFactor: number;
}
export interface CassandraSettings {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replicationFactor: number;
}
export interface S3Settings {
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  prefix: string;
}

export interface DistributedConfig {
  kafka?: KafkaSettings;
  cassandra?: CassandraSettings;
  s3?: S3Settings;
}

const issues = (error: z.ZodError): string[] => error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

/** Validate the requested sections, collecting every problem of every section before throwing. */
export function loadDistributedConfig(env: NodeJS.ProcessEnv, sections: readonly Section[]): DistributedConfig {
  const problems: string[] = [];
  const config: DistributedConfig = {};
  if (sections.includes('kafka')) {
    const parsed = Sections.kafka.safeParse(env);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else
      config.kafka = {
        brokers: parsed.data.KAFKA_BROKERS,
        topic: parsed.data.COLLAB_OPS_TOPIC,
        partitions: parsed.data.COLLAB_OPS_PARTITIONS,
        replicationFactor: parsed.data.COLLAB_KAFKA_REPLICATION_FACTOR,
      };
  }
  if (sections.includes('cassandra')) {
    const parsed = Sections.cassandra.safeParse(env);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else
      config.cassandra = {
        contactPoints: parsed.data.CASSANDRA_CONTACT_POINTS,
        localDataCenter: parsed.data.CASSANDRA_LOCAL_DC,
        keyspace: parsed.data.CASSANDRA_KEYSPACE,
        replicationFactor: parsed.data.CASSANDRA_REPLICATION_FACTOR,
      };
  }
  if (sections.includes('s3')) {
    const parsed = Sections.s3.safeParse(env);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else {
      const e = parsed.data;
      if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
        problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: give both or neither (then the AWS default chain)');
      }
      config.s3 = {
        ...(e.S3_ENDPOINT === undefined ? {} : { endpoint: e.S3_ENDPOINT }),
        region: e.S3_REGION,
        ...(e.S3_ACCESS_KEY_ID === undefined || e.S3_SECRET_ACCESS_KEY === undefined
          ? {}
          : { credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } }),
        bucket: e.S3_BUCKET,
        prefix: e.S3_PREFIX,
      };
    }
  }
  if (problems.length > 0) throw new ConfigProblems(problems);
  return config;
}

export function redactDistributed(config: DistributedConfig): Record<string, unknown> {
  return {
    ...config,
    ...(config.s3 === undefined
      ? {}
      : { s3: { ...config.s3, credentials: config.s3.credentials === undefined ? undefined : '[redacted]' } }),
  };
}
