/**
 * Provisioning of the ops topic. Idempotent: creating a topic that exists is fine as long as it has the
 * partition count we expect. A different count is an error, never "fixed": adding partitions would move
 * documents to other partitions (partitionFor is hash modulo count) and break version order.
 */
import { CollabError } from '@collab/core';
import type { Admin } from 'kafkajs';

export interface OpsTopicSpec {
  topic: string;
  partitions: number;
  /** 3 in production; 1 on a single dev broker. */
  replicationFactor: number;
  config?: {
    /** 2 in production (with acks=all, a write survives the loss of one broker). Default: broker default. */
    minInsyncReplicas?: number;
    /** Any other topic config, e.g. { 'segment.bytes': '...' }. Overrides the defaults below. */
    extra?: Record<string, string>;
  };
}

/** The settings the ops topic needs whatever the cluster: the source of truth is retained forever. */
export const OPS_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
  'unclean.leader.election.enable': 'false',
};

export async function ensureOpsTopic(admin: Admin, spec: OpsTopicSpec): Promise<{ created: boolean }> {
  const configs: Record<string, string> = { ...OPS_TOPIC_CONFIG };
  if (spec.config?.minInsyncReplicas !== undefined) {
    configs['min.insync.replicas'] = String(spec.config.minInsyncReplicas);
  }
  Object.assign(configs, spec.config?.extra);
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  if (!created) {
    const metadata = await admin.fetchTopicMetadata({ topics: [spec.topic] });
    const actual = metadata.topics[0]?.partitions.length ?? 0;
    if (actual !== spec.partitions) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `topic ${spec.topic} exists with ${actual} partitions, expected ${spec.partitions}; repartitioning the ops topic would move documents, do it only with a migration`,
      );
    }
  }
  return { created };
}
