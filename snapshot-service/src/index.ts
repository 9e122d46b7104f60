export {
  createSnapshotWorker,
  type SnapshotWorker,
  type SnapshotWorkerOptions,
  type SnapshotEvent,
} from './snapshot-worker.js';
export { DEFAULT_POLICY, RateMeter, snapshotDue, type SnapshotPolicy, type SnapshotReason } from './policy.js';
export { DEFAULT_RETRY, type RetrySettings } from './snapshot-writer.js';
export { PartitionProgress } from './checkpoints.js';
export { loadConfig, ConfigError, type SnapshotServiceConfig } from './config.js';
export { snapshotAgeSummary } from './metrics.js';
