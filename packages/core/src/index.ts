export * from './errors.js';
export * from './records.js';
export * from './ports/op-log.js';
export * from './ports/read-model-store.js';
export * from './ports/snapshot-store.js';
export * from './ports/presence-bus.js';
export * from './domain/document-state.js';
export * from './domain/submit.js';
