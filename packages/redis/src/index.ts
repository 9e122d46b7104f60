export { createRedisPresenceBus, type RedisPresenceBusOptions } from './presence-bus.js';
export { DEFAULT_REDIS_TIMEOUTS, connectionOptions, type RedisTimeouts, type RedisTls } from './connection.js';
export { docNames, type DocNames } from './keys.js';
