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

/**
 * admin.createTopics, again on a retriable broker error: with waitForLeaders, kafkajs reads the new topics'
 * metadata at once and, on a broker that has just started, can get UNKNOWN_TOPIC_OR_PARTITION ("This server does
 * not host this topic-partition"), which it does not retry itself (seen once in CI, right after `infra:up`). A retry
 * is safe: createTopics answers false for topics that exist, and the callers check those.
 */
async function createTopicsSettled(admin: Admin, args: Parameters<Admin['createTopics']>[0]): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.createTopics(args);
    } catch (err) {
      if ((err as { retriable?: unknown }).retriable !== true || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
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
  const created = await createTopicsSettled(admin, {
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

export interface CommandTopicsSpec {
  commandsTopic: string;
  /** Must equal the ops topic's partition count: commands partition p is ops partition p. */
  partitions: number;
  repliesTopic: string;
  /** Every instance reads every replies partition; 1 is plenty (replies are rejections and duplicate acks). */
  repliesPartitions?: number;
  replicationFactor: number;
  minInsyncReplicas?: number;
}

/**
 * Provisioning of the command bus topics. Commands are a hand-off, not history: kept a week so that a consumer
 * outage cannot lose any, then deleted. Replies matter for seconds (a forward times out after that); an hour.
 * Idempotent, and like the ops topic a different partition count is an error, never "fixed".
 */
export async function ensureCommandTopics(admin: Admin, spec: CommandTopicsSpec): Promise<void> {
  const common: Record<string, string> = {
    'cleanup.policy': 'delete',
    'unclean.leader.election.enable': 'false',
  };
  if (spec.minInsyncReplicas !== undefined) common['min.insync.replicas'] = String(spec.minInsyncReplicas);
  const topics = [
    {
      topic: spec.commandsTopic,
      numPartitions: spec.partitions,
      config: { ...common, 'retention.ms': String(7 * 24 * 3600 * 1000) },
    },
    {
      topic: spec.repliesTopic,
      numPartitions: spec.repliesPartitions ?? 1,
      config: { ...common, 'retention.ms': String(3600 * 1000) },
    },
  ];
  await createTopicsSettled(admin, {
    waitForLeaders: true,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.numPartitions,
      replicationFactor: spec.replicationFactor,
      configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
    })),
  });
  const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
  for (const t of topics) {
    const actual = metadata.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
    if (actual !== t.numPartitions) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `topic ${t.topic} exists with ${actual} partitions, expected ${t.numPartitions}`,
      );
    }
  }
}
