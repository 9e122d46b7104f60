export * from './framing.js';
export * from './registry.js';
export * from './op-committed.js';
export * from './op-components.js';
export * from './schema-registry-client.js';
export * from './registry-codec.js';
export * from './comment-event.js';
export * from './log-value.js';
