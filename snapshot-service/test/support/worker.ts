/** Starts a snapshot worker on a test topic with short, test-friendly policy timings, recording its events. */
import type { ReadModelStore, SnapshotStore } from '@collab/core';
import { createDocumentReader } from '@collab/read-side';
import {
  createSnapshotWorker,
  type SnapshotEvent,
  type SnapshotWorker,
  type SnapshotWorkerOptions,
} from '../../src/index.js';
import type { TestTopic } from './stack.js';

export interface RunningWorker {
  worker: SnapshotWorker;
  events: SnapshotEvent[];
  failedAttempts: number;
  stop(): Promise<void>;
}

export async function startWorker(
  topic: TestTopic,
  deps: { readModels: ReadModelStore; snapshots: SnapshotStore; groupId: string },
  overrides: Partial<SnapshotWorkerOptions> = {},
): Promise<RunningWorker> {
  const log = await topic.open('snapshot-worker');
  const running: RunningWorker = {
    worker: undefined as unknown as SnapshotWorker,
    events: [],
    failedAttempts: 0,
    stop: async () => {
      await running.worker.stop();
    },
  };
  running.worker = createSnapshotWorker({
    log,
    groupId: deps.groupId,
    reader: createDocumentReader({ readModels: deps.readModels, snapshots: deps.snapshots }),
    snapshots: deps.snapshots,
    policy: { everyVersions: 100, idleMs: 1_000, hotEveryVersions: 100 },
    retry: { retries: 5, minDelayMs: 50, maxDelayMs: 500 },
    retention: { keepLatest: 1_000 },
    tickMs: 100,
    drainMs: 5_000,
    onSnapshot: (event) => running.events.push(event),
    onWriteAttemptFailed: () => running.failedAttempts++,
    ...overrides,
  });
  await running.worker.start();
  return running;
}
