export { createKafkaOpLog } from './op-log.js';
export { createKafkaCommandBus, type KafkaCommandBusOptions } from './command-bus.js';
export {
  ensureCommandTopics,
  ensureOpsTopic,
  OPS_TOPIC_CONFIG,
  type CommandTopicsSpec,
  type OpsTopicSpec,
} from './topic.js';
export { DEFAULT_TIMEOUTS, type KafkaOpLogOptions, type KafkaTimeouts } from './options.js';
export { createPartitionFor } from './partitioner.js';
export { kafkaSecurityConfig, type KafkaSecurity } from './security.js';
