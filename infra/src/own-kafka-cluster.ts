/**
 * A Kafka cluster of a fault test's own: three nodes from the locally built Kafka image on a network of its own,
 * so killing its brokers touches nothing else. Its containers and network carry this process's run label
 * (RUN_ID), so the integration run's clean-up (after all, on SIGINT/SIGTERM, CI's teardown by
 * `collab.harness.run`) removes them too, and a label of their own, which `stop()` removes.
 */
import { randomBytes } from 'node:crypto';
import { bestEffort } from '@collab/core';
import { getContainerRuntimeClient } from 'testcontainers';
import { removeLabelled } from './cleanup.js';
import { stackJit } from './config.js';
import type { ContainerContext } from './containers.js';
import { LABEL_HARNESS, LABEL_KAFKA_CLUSTER, LABEL_PURPOSE, LABEL_RUN } from './containers.js';
import { prepareTestcontainers } from './docker.js';
import { assertLocalImagesPresent, localImages } from './images.js';
import type { KafkaCluster } from './kafka-cluster.js';
import { startKafkaNodes } from './kafka-cluster.js';
import { RUN_ID, noteOwnContainers } from './stack.js';

export interface StandaloneKafkaCluster extends KafkaCluster {
  /** Names its containers and network (collab-it-<runId>-kafka-<n>). */
  runId: string;
  /** Removes the containers and the network. Idempotent. */
  stop(): Promise<void>;
}

/** Started, or failed with the reason (what was started is removed first); never skipped. */
export async function startKafkaCluster(
  options: { startupTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<StandaloneKafkaCluster> {
  const env = options.env ?? process.env;
  prepareTestcontainers(env);
  const client = await getContainerRuntimeClient();
  const images = await localImages();
  await assertLocalImagesPresent(client, images);
  // Names: collab-it-<run>-kc<random>-kafka-<n>; the run's label, and the cluster's own for stop().
  const runId = `${RUN_ID}-kc${randomBytes(3).toString('hex')}`;
  const labels = {
    [LABEL_HARNESS]: '1',
    [LABEL_RUN]: RUN_ID,
    [LABEL_PURPOSE]: 'test',
    [LABEL_KAFKA_CLUSTER]: runId,
  };
  const network = `collab-it-${runId}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= removeLabelled(`${LABEL_KAFKA_CLUSTER}=${runId}`).then(() => undefined));
  noteOwnContainers();
  try {
    await client.network.create({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
    const startupTimeoutMs = options.startupTimeoutMs ?? 180_000;
    const ctx: ContainerContext = { runId, network, labels, startupTimeoutMs, public: false, jit: stackJit(env) };
    const cluster = await startKafkaNodes(images.kafka, ctx);
    return { ...cluster, runId, stop };
  } catch (err) {
    await bestEffort(stop());
    throw err;
  }
}
