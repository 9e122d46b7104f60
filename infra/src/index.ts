export * from './endpoints.js';
export * from './stack.js';
