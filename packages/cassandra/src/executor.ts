/**
 * The one place statements (and single-partition unlogged batches) are executed: always prepared, marked
 * idempotent (every write in this store is an upsert keyed by (docId, version) or a compare-and-set whose retry
 * is detected by the caller, so the driver may retry on another node), at the configured consistency, with
 * driver errors mapped to CollabErrors.
 */
import type { Client, types } from 'cassandra-driver';

import { toCollabError } from './driver-errors.js';

export interface ExecuteOverrides {
  consistency?: number;
  fetchSize?: number;
  pageState?: string;
}

export interface Executor {
  execute(query: string, params: unknown[], what: string, overrides?: ExecuteOverrides): Promise<types.ResultSet>;
  /**
   * An UNLOGGED batch. Callers only put rows of one partition in it (see batches.ts): Cassandra then applies it
   * as a single mutation. Idempotent like every write here: the rows are upserts of fixed values.
   */
  batch(queries: readonly { query: string; params: unknown[] }[], what: string): Promise<void>;
}

export interface ExecutorOptions {
  consistency: number;
  serialConsistency: number;
  /** Client-side per-request timeout; undefined keeps the client's socketOptions.readTimeout. */
  readTimeoutMs: number | undefined;
  endpoint: string;
}

export function createExecutor(client: Client, options: ExecutorOptions): Executor {
  return {
    async execute(query, params, what, overrides = {}) {
      try {
        return await client.execute(query, params, {
          prepare: true,
          isIdempotent: true,
          consistency: overrides.consistency ?? options.consistency,
          serialConsistency: options.serialConsistency,
          ...(options.readTimeoutMs !== undefined ? { readTimeout: options.readTimeoutMs } : {}),
          ...(overrides.fetchSize !== undefined ? { fetchSize: overrides.fetchSize, autoPage: false } : {}),
          ...(overrides.pageState !== undefined ? { pageState: overrides.pageState } : {}),
        });
      } catch (err) {
        throw toCollabError(err, what, options.endpoint);
      }
    },
    async batch(queries, what) {
      try {
        await client.batch(
          queries.map((q) => ({ query: q.query, params: q.params })),
          {
            prepare: true,
            logged: false,
            isIdempotent: true,
            consistency: options.consistency,
            serialConsistency: options.serialConsistency,
            ...(options.readTimeoutMs !== undefined ? { readTimeout: options.readTimeoutMs } : {}),
          },
        );
      } catch (err) {
        throw toCollabError(err, what, options.endpoint);
      }
    },
  };
}
