/** Options of the Cassandra read-model store, their defaults and their validation. */
import type { Client } from 'cassandra-driver';
import cassandra from 'cassandra-driver';

import { CollabError } from '@collab/core';

import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_ROWS } from './batches.js';
import type { Logger } from '@collab/core';
import { checkIdentifier } from './replication.js';
import type { CassandraSecurity } from './security.js';

const { consistencies } = cassandra.types;

export interface CassandraTimeouts {
  /** TCP connect + protocol handshake per connection (driver socketOptions.connectTimeout). Default 5000. */
  connectMs?: number;
  /**
   * How long the client waits for any one request before trying the next host or failing with ERR_TIMEOUT
   * (driver socketOptions.readTimeout). Default 12000: above the server's own write (2 s) and read (5 s)
   * timeouts and the CAS contention timeout (1 s), so the server reports its timeouts first.
   */
  readMs?: number;
}

export interface CassandraReadModelStoreOptions {
  /** A connected or unconnected client to use; the store does not shut it down. Or give contactPoints. */
  client?: Client;
  /** "host:port" entries; the store creates (and on close shuts down) its own client. */
  contactPoints?: string[];
  localDataCenter?: string;
  /** Credentials and TLS of the client the store creates (ignored with `client`: configure yours). */
  security?: CassandraSecurity;
  keyspace: string;
  logger?: Logger;
  timeouts?: CassandraTimeouts;
  /** Default LOCAL_QUORUM: read-your-writes within the data center with RF 3, surviving one replica down. */
  consistency?: number;
  /** For the head's compare-and-set. Default LOCAL_SERIAL. */
  serialConsistency?: number;
  /** Ops per (doc_id, bucket) partition. Default 10,000. Must never change for an existing keyspace. */
  bucketSize?: number;
  /** Writes in flight per writeOps call. Default 64. */
  writeConcurrency?: number;
  /** Rows per page when reading long op ranges. Default 1000. */
  pageSize?: number;
  /**
   * Rows of one partition are written as one unlogged batch of at most this many rows (default 500) and about
   * `batchMaxBytes` bytes (default 48 KiB, under Cassandra's default batch_size_fail_threshold of 50 KiB); a
   * larger row is written alone. See batches.ts.
   */
  batchMaxRows?: number;
  batchMaxBytes?: number;
  /**
   * 'live' (default): safe with any number of concurrent writers; the head is read unless this store knows it,
   * and the ops past the batch are looked for (another writer may have stored them).
   * 'rebuild': an in-memory tracker of everything written stands in for those reads — ONLY for a rebuild into a
   * keyspace that was just created and that nothing else writes to (see rebuild-heads.ts for why).
   */
  headMode?: 'live' | 'rebuild';
}

export const DEFAULT_BUCKET_SIZE = 10_000;

export interface ResolvedOptions {
  keyspace: string;
  consistency: number;
  serialConsistency: number;
  bucketSize: number;
  writeConcurrency: number;
  pageSize: number;
  batchMaxRows: number;
  batchMaxBytes: number;
  headMode: 'live' | 'rebuild';
  connectMs: number;
  readMs: number;
}

const positiveInt = (name: string, value: number): number => {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  }
  return value;
};

const headMode = (mode: string | undefined): 'live' | 'rebuild' => {
  if (mode === undefined || mode === 'live' || mode === 'rebuild') return mode ?? 'live';
  throw new CollabError('ERR_INVALID_ARGUMENT', `headMode must be 'live' or 'rebuild', got ${mode}`);
};

export function resolveOptions(options: CassandraReadModelStoreOptions): ResolvedOptions {
  if (options.client === undefined && (options.contactPoints ?? []).length === 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'Give either a client or contactPoints');
  }
  if (options.client === undefined && options.localDataCenter === undefined) {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'localDataCenter is required with contactPoints');
  }
  return {
    keyspace: checkIdentifier('keyspace', options.keyspace),
    consistency: options.consistency ?? consistencies.localQuorum,
    serialConsistency: options.serialConsistency ?? consistencies.localSerial,
    bucketSize: positiveInt('bucketSize', options.bucketSize ?? DEFAULT_BUCKET_SIZE),
    writeConcurrency: positiveInt('writeConcurrency', options.writeConcurrency ?? 64),
    pageSize: positiveInt('pageSize', options.pageSize ?? 1000),
    batchMaxRows: positiveInt('batchMaxRows', options.batchMaxRows ?? DEFAULT_BATCH_MAX_ROWS),
    batchMaxBytes: positiveInt('batchMaxBytes', options.batchMaxBytes ?? DEFAULT_BATCH_MAX_BYTES),
    headMode: headMode(options.headMode),
    connectMs: positiveInt('timeouts.connectMs', options.timeouts?.connectMs ?? 5000),
    readMs: positiveInt('timeouts.readMs', options.timeouts?.readMs ?? 12_000),
  };
}
