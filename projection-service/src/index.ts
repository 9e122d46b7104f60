export {
  createProjector,
  chunkByDocument,
  runConcurrently,
  DEFAULT_RETRY,
  type ProjectorOptions,
  type RetryPolicy,
} from './projector.js';
export { startProjectionService, type ProjectionService, type ProjectionServiceOptions } from './service.js';
export { createLagTracker, type LagTracker, type PartitionLag } from './lag.js';
export { replay, type ReplayOptions, type ReplayProgress, type ReplayResult } from './replay.js';
export { rebuildKeyspace, type RebuildKeyspaceOptions, type RebuildKeyspaceResult } from './rebuild.js';
export {
  compareKeyspaces,
  describeDifference,
  readHeads,
  type ConsistencyReport,
  type Difference,
} from './consistency.js';
export { loadConfig, ConfigError, type ProjectionServiceConfig } from './config.js';
