export * from './snapshot-store.js';
export * from './presence-bus.js';
export * from './read-model-store.js';
export * from './op-log.js';
export * from './media-store.js';
export * from './media-api.js';
