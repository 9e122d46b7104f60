export * from './framing.js';
export * from './registry.js';
export * from './op-committed.js';
