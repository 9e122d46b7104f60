/**
 * `@collab/protocol/schemas`: the zod schemas (values and their inferred types). The server validates client frames
 * with them; tests check the server's output against them. The SDK imports the types from `@collab/protocol`
 * instead and never this entry at run time: zod would more than double its browser bundle (docs/architecture.md).
 */
export * from './client-messages.js';
export * from './server-messages.js';
export * from './comment-messages.js';
