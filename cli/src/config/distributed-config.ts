/**
 * Configuration of the CLI's distributed commands (migrate, doc, export, replay against Kafka, Cassandra and S3):
 * environment variables — the same names the services read — validated at once, every problem listed. A command
 * asks only for the sections it uses, so `doc get` does not demand KAFKA_BROKERS.
 */
import {
  cassandraEnv,
  commandTopicsEnv,
  int,
  loadCassandraSecurity,
  loadKafkaSecurity,
  opsTopicEnv,
  redactedCassandraSecurity,
  redactedKafkaSecurity,
  s3Credentials,
  s3Env,
  s3Problems,
  type CassandraSecurity,
  type KafkaSecurity,
  schemaRegistrySettings,
} from '@collab/env-config';
import { z } from 'zod';
import { ConfigProblems } from '../embedded-config.js';

const Sections = {
  kafka: z.object({
    ...opsTopicEnv,
    ...commandTopicsEnv,
    COLLAB_KAFKA_REPLICATION_FACTOR: int(1, 16).default(1),
  }),
  cassandra: z.object({
    ...cassandraEnv,
    CASSANDRA_REPLICATION_FACTOR: int(1, 32).default(1),
  }),
  s3: z.object(s3Env),
};

export type Section = keyof typeof Sections;

export interface KafkaSettings {
  brokers: string[];
  topic: string;
  partitions: number;
  /** The command-service's command bus (created by `collab migrate` beside the ops topic). */
  commandsTopic: string;
  repliesTopic: string;
  replicationFactor: number;
  security: KafkaSecurity;
  /** COLLAB_SCHEMA_REGISTRY_URL (and its id cache): how the ops records' schema ids are resolved. */
  schemaRegistry?: { url: string; idCachePath?: string };
}
export interface CassandraSettings {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replicationFactor: number;
  security: CassandraSecurity;
}
export interface S3Settings {
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  /** The media's bucket (COLLAB_MEDIA_BUCKET, default `bucket`). */
  mediaBucket: string;
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
    const security = loadKafkaSecurity(env);
    problems.push(...security.problems);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else
      config.kafka = {
        brokers: parsed.data.KAFKA_BROKERS,
        topic: parsed.data.COLLAB_OPS_TOPIC,
        partitions: parsed.data.COLLAB_OPS_PARTITIONS,
        commandsTopic: parsed.data.COLLAB_COMMANDS_TOPIC,
        repliesTopic: parsed.data.COLLAB_REPLIES_TOPIC,
        replicationFactor: parsed.data.COLLAB_KAFKA_REPLICATION_FACTOR,
        security: security.value,
        ...registryOf(parsed.data),
      };
  }
  if (sections.includes('cassandra')) {
    const parsed = Sections.cassandra.safeParse(env);
    const security = loadCassandraSecurity(env);
    problems.push(...security.problems);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else
      config.cassandra = {
        contactPoints: parsed.data.CASSANDRA_CONTACT_POINTS,
        localDataCenter: parsed.data.CASSANDRA_LOCAL_DC,
        keyspace: parsed.data.CASSANDRA_KEYSPACE,
        replicationFactor: parsed.data.CASSANDRA_REPLICATION_FACTOR,
        security: security.value,
      };
  }
  if (sections.includes('s3')) {
    const parsed = Sections.s3.safeParse(env);
    if (!parsed.success) problems.push(...issues(parsed.error));
    else {
      const e = parsed.data;
      problems.push(...s3Problems(env));
      config.s3 = {
        ...(e.S3_ENDPOINT === undefined ? {} : { endpoint: e.S3_ENDPOINT }),
        region: e.S3_REGION,
        ...s3Credentials(e),
        bucket: e.S3_BUCKET,
        mediaBucket: e.COLLAB_MEDIA_BUCKET ?? e.S3_BUCKET,
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
    ...(config.kafka === undefined
      ? {}
      : { kafka: { ...config.kafka, security: redactedKafkaSecurity(config.kafka.security) } }),
    ...(config.cassandra === undefined
      ? {}
      : { cassandra: { ...config.cassandra, security: redactedCassandraSecurity(config.cassandra.security) } }),
    ...(config.s3 === undefined
      ? {}
      : { s3: { ...config.s3, credentials: config.s3.credentials === undefined ? undefined : '[redacted]' } }),
  };
}

/** The registry settings as an optional field (absent without COLLAB_SCHEMA_REGISTRY_URL). */
function registryOf(e: Parameters<typeof schemaRegistrySettings>[0]): Pick<KafkaSettings, 'schemaRegistry'> {
  const registry = schemaRegistrySettings(e);
  return registry === undefined ? {} : { schemaRegistry: registry };
}
