export * from './endpoints.js';
export * from './stack.js';
export { chooseStack, harnessTimeouts } from './config.js';
export type { StackChoice, StackSource, HarnessTimeouts } from './config.js';
export { provision, provisionOptionsFromEnv } from './provision.js';
export type { ProvisionOptions, ProvisionResult } from './provision.js';
export { checkEndpoints } from './probes.js';
export { probeUntil } from './probes.js';
// For a suite outside the integration run (.mocharc.int.json loads these as root hooks) that needs the stack:
// `before(stackHooks.beforeAll)` / `after(stackHooks.afterAll)` apply the same skip rule and clean-up.
export { mochaHooks as stackHooks } from './mocha-hooks.js';
export { percentile } from './stats.js';
export { KAFKA_SINGLE_NODE_ENV } from './containers.js';
export { freePort } from './ports.js';
export {
  requireSecureServers,
  startSecureCassandra,
  startSecureKafka,
  startSecureRedis,
  writePkiFiles,
  type SecureCassandra,
  type SecureKafka,
  type SecureRedis,
  type TestPki,
} from './secure-servers.js';
export {
  COMMAND_INSTANCES,
  killClusterMember,
  restartClusterMember,
  startCluster,
  stopCluster,
  type RunningCluster,
} from './cluster/cluster.js';
export { ensureServiceImages, type ServiceImages } from './cluster/images.js';
export { KAFKA_CLUSTER_ENV } from './containers.js';
export { stackKafka } from './config.js';
export type { StackKafka } from './config.js';
export { KAFKA_CLUSTER_SIZE, type KafkaCluster, type KafkaClusterNodeHandle } from './kafka-cluster.js';
export { startKafkaCluster, type StandaloneKafkaCluster } from './own-kafka-cluster.js';
export { startStack, type RunningStack, type StartOptions } from './harness.js';
export { createLogger, type Logger } from './log.js';
export { containerName } from './containers.js';
