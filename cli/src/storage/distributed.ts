/** Clients of the distributed mode's stores, built from the CLI's distributed configuration. */
import { createCassandraReadModelStore } from '@collab/adapter-cassandra';
import { createKafkaOpLog } from '@collab/adapter-kafka';
import { createS3MediaStore, createS3SnapshotStore, type S3EndpointConfig } from '@collab/adapter-s3';
import type { MediaStore, OpLog, ReadModelStore, SnapshotStore } from '@collab/core';
import type { CassandraSettings, KafkaSettings, S3Settings } from '../config/distributed-config.js';

export function openKafkaLog(kafka: KafkaSettings): Promise<OpLog> {
  return createKafkaOpLog({
    brokers: kafka.brokers,
    topic: kafka.topic,
    partitionCount: kafka.partitions,
    clientId: `collab-cli-${process.pid}`,
    security: kafka.security,
    ...(kafka.schemaRegistry === undefined ? {} : { schemaRegistry: kafka.schemaRegistry }),
  });
}

export function openCassandraReadModels(cassandra: CassandraSettings): Promise<ReadModelStore> {
  return createCassandraReadModelStore({
    contactPoints: cassandra.contactPoints,
    localDataCenter: cassandra.localDataCenter,
    keyspace: cassandra.keyspace,
    security: cassandra.security,
  });
}

/** The S3 endpoint, region and credentials of the CLI's settings, as the S3 package takes them. */
export const s3Endpoint = (s3: S3Settings): S3EndpointConfig => ({
  region: s3.region,
  ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
  ...(s3.credentials === undefined ? {} : { credentials: s3.credentials }),
});

export function openS3Snapshots(s3: S3Settings): SnapshotStore {
  return createS3SnapshotStore({ ...s3Endpoint(s3), bucket: s3.bucket, prefix: s3.prefix });
}

/** The uploaded images (COLLAB_MEDIA_BUCKET, keys under {S3_PREFIX}media/). */
export function openS3Media(s3: S3Settings): MediaStore {
  return createS3MediaStore({ ...s3Endpoint(s3), bucket: s3.mediaBucket, prefix: s3.prefix });
}
