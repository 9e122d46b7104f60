/**
 * The ReadModelStore over Cassandra. Wiring only: options, the client, the executor; the queries are in
 * writes.ts (+ batches.ts), head.ts (+ rebuild-heads.ts) and reads.ts, the tables in migrations/ and README.md.
 */
import cassandra from 'cassandra-driver';
import type { Client } from 'cassandra-driver';

import { CollabError, bestEffort } from '@collab/core';
import type { ReadModelStore } from '@collab/core';

import { getCommentEvents, writeCommentEvents } from './comment-events.js';
import { clientContactPoints, toCollabError } from './driver-errors.js';
import { createExecutor } from './executor.js';
import { KnownHeads } from './head.js';
import { silentLogger } from '@collab/core';
import type { CassandraReadModelStoreOptions } from './options.js';
import { resolveOptions } from './options.js';
import { claimProjectionSource, projectionSource } from './projection-source.js';
import * as reads from './reads.js';
import { RebuildHeads } from './rebuild-heads.js';
import { cassandraSecurityOptions } from './security.js';
import { statements } from './statements.js';
import { writeOps } from './writes.js';

/**
 * Connects (or uses the given client) and returns the store. Rejects with ERR_UNAVAILABLE naming the contact
 * points when no node can be reached within the connect timeout. The schema must exist: run `migrate` first.
 */
/** The ReadModelStore plus what only the Cassandra keyspace knows: which projection group describes it. */
export interface CassandraReadModelStore extends ReadModelStore {
  /** The consumer group that projects `topic` into this keyspace (migration 0004), undefined if unclaimed. */
  projectionSource(topic: string): Promise<string | undefined>;
  /** Claims the keyspace for `groupId`; ERR_CONFLICT naming both groups if another group holds it. */
  claimProjectionSource(topic: string, groupId: string): Promise<void>;
}

export async function createCassandraReadModelStore(
  options: CassandraReadModelStoreOptions,
): Promise<CassandraReadModelStore> {
  const resolved = resolveOptions(options);
  const logger = options.logger ?? silentLogger;
  const ownsClient = options.client === undefined;
  const client: Client =
    options.client ??
    new cassandra.Client({
      contactPoints: options.contactPoints ?? [],
      localDataCenter: options.localDataCenter as string,
      socketOptions: { connectTimeout: resolved.connectMs, readTimeout: resolved.readMs },
      ...cassandraSecurityOptions(options.security),
      // A node that stops answering is noticed by the heartbeat even when idle.
      pooling: { heartBeatInterval: 10_000 },
    });
  const endpoint = (options.contactPoints ?? clientContactPoints(client)).join(',');
  try {
    await client.connect();
  } catch (err) {
    if (ownsClient) await bestEffort(client.shutdown());
    throw toCollabError(err, `connect to keyspace ${resolved.keyspace}`, endpoint);
  }
  logger.debug({ endpoint, keyspace: resolved.keyspace }, 'cassandra read-model store connected');

  const exec = createExecutor(client, {
    consistency: resolved.consistency,
    serialConsistency: resolved.serialConsistency,
    // An injected client keeps its own socket timeout unless one is given explicitly.
    readTimeoutMs: ownsClient || options.timeouts?.readMs !== undefined ? resolved.readMs : undefined,
    endpoint,
  });
  const bucketSize = resolved.bucketSize;
  const ctx = {
    exec,
    cql: statements(resolved.keyspace),
    bucketSize,
    bucketOf: (version: number) => Math.floor(version / bucketSize),
    serialConsistency: resolved.serialConsistency,
    writeConcurrency: resolved.writeConcurrency,
    batchLimits: { maxRows: resolved.batchMaxRows, maxBytes: resolved.batchMaxBytes },
    // One tracker per store instance: the rebuild mode's knowledge is "what this instance wrote".
    rebuildHeads: resolved.headMode === 'rebuild' ? new RebuildHeads() : undefined,
    knownHeads: resolved.headMode === 'rebuild' ? undefined : new KnownHeads(),
    pageSize: resolved.pageSize,
    keyspace: resolved.keyspace,
  };

  let closing: Promise<void> | undefined;
  const open =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (closing !== undefined) throw new CollabError('ERR_CLOSED', 'The Cassandra read-model store is closed');
      return fn(...args);
    };

  return {
    writeOps: open((ops) => writeOps(ctx, ops)),
    getOps: open((docId, from, to, limit) => reads.getOps(ctx, docId, from, to, limit)),
    getHead: open((docId) => reads.getHead(ctx, docId)),
    versionAt: open((docId, time) => reads.versionAt(ctx, docId, time)),
    history: open((docId, opts) => reads.history(ctx, docId, opts)),
    userActivity: open((userId, opts) => reads.userActivity(ctx, userId, opts)),
    writeCommentEvents: open((events) => writeCommentEvents(ctx, events)),
    getCommentEvents: open((docId, from, to) => getCommentEvents(ctx, docId, from, to)),
    projectionSource: open((topic: string) => projectionSource(ctx, topic)),
    claimProjectionSource: open((topic: string, groupId: string) => claimProjectionSource(ctx, topic, groupId)),
    close() {
      // Idempotent; an injected client belongs to the caller and stays open.
      closing ??= ownsClient ? client.shutdown() : Promise.resolve();
      return closing;
    },
  };
}
