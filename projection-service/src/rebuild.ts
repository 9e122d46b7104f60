/**
 * rebuildKeyspace: the whole rebuild as the CLI runs it (and the integration tests call it): check the target
 * keyspace is new, migrate it, replay the ops topic into it, then optionally compare it with the live keyspace.
 *
 * Why a fresh keyspace and not the live one: readers keep using the live keyspace while the rebuild runs, and
 * the switch is a configuration change (CASSANDRA_KEYSPACE) once the check passes. Rebuilding in place would
 * also work (writes are idempotent) but could not repair a row that is wrong rather than missing.
 */
import {
  cassandraSecurityOptions,
  createCassandraReadModelStore,
  migrate,
  type CassandraSecurity,
  type Replication,
} from '@collab/adapter-cassandra';
import { createKafkaOpLog, type KafkaSecurity } from '@collab/adapter-kafka';
import { CollabError, type Offset } from '@collab/core';
import cassandra from 'cassandra-driver';
import { compareKeyspaces, type ConsistencyReport } from './consistency.js';
import { replay, type ReplayProgress, type ReplayResult } from './replay.js';

export interface RebuildKeyspaceOptions {
  kafka: {
    brokers: string[];
    topic: string;
    partitions: number;
    security?: KafkaSecurity;
    /** COLLAB_SCHEMA_REGISTRY_URL: records framed with a registry's ids decode through it. */
    schemaRegistry?: { url: string; idCachePath?: string };
  };
  cassandra: {
    contactPoints: string[];
    localDataCenter: string;
    keyspace: string;
    replication: Replication;
    security?: CassandraSecurity;
  };
  /** First offset per partition; default the beginning of each. */
  from?: readonly (Offset | undefined)[];
  /** The live keyspace to compare the result with. */
  compareWith?: string;
  readBatchSize?: number;
  /** Partitions replayed at once. Default 6 (with ops in blocks, 2 left the CPU partly idle; see below). */
  partitionConcurrency?: number;
  maxOpsPerWrite?: number;
  chunkConcurrency?: number;
  /** Statements (mostly single-partition batches) in flight per writeOps call. Default 128 (the service uses 64). */
  storeWriteConcurrency?: number;
  /**
   * How heads are written. Default 'rebuild': plain writes from an in-memory head tracker, no LWT — safe here
   * only because the keyspace was just created by this rebuild (an existing one is refused above) and nothing
   * else writes to it until the rebuild is done (see @collab/adapter-cassandra rebuild-heads.ts). 'live' is the
   * live projector's (a head read unless known, reads past each batch), for comparison in the benchmark.
   */
  headMode?: 'rebuild' | 'live';
  onProgress?: (progress: ReplayProgress) => void;
  onRetry?: (partition: number, offset: Offset, err: unknown) => void;
}

export interface RebuildKeyspaceResult {
  replay: ReplayResult;
  consistency: ConsistencyReport | undefined;
}

export async function rebuildKeyspace(options: RebuildKeyspaceOptions): Promise<RebuildKeyspaceResult> {
  const { kafka, cassandra: cc } = options;
  const client = new cassandra.Client({
    contactPoints: cc.contactPoints,
    localDataCenter: cc.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 30_000 },
    // A rebuild keeps up to partitionConcurrency x chunkConcurrency x storeWriteConcurrency statements in flight;
    // one connection takes at most 2,048 (then BusyConnectionError), so open a few per node.
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 4, [cassandra.types.distance.remote]: 1 } },
    ...cassandraSecurityOptions(cc.security),
  });
  await client.connect();
  try {
    const existing = await client.execute(
      'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
      [cc.keyspace],
      { prepare: true },
    );
    if (existing.rowLength > 0) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `keyspace ${cc.keyspace} exists; a rebuild writes into a fresh keyspace (pick a new name, or drop it first)`,
      );
    }
    await migrate(client, { keyspace: cc.keyspace, replication: cc.replication });
    // The keyspace did not exist a moment ago and this process created it: this store is its only writer, which
    // is what headMode 'rebuild' requires. Readers and the live projector must not be pointed at it before the
    // rebuild has finished (operations.md, rebuild procedure).
    const store = await createCassandraReadModelStore({
      client,
      keyspace: cc.keyspace,
      writeConcurrency: options.storeWriteConcurrency ?? 128,
      headMode: options.headMode ?? 'rebuild',
    });
    const log = await createKafkaOpLog({
      brokers: kafka.brokers,
      topic: kafka.topic,
      partitionCount: kafka.partitions,
      clientId: `projection-rebuild-${process.pid}`,
      ...(kafka.security === undefined ? {} : { security: kafka.security }),
      ...(kafka.schemaRegistry === undefined ? {} : { schemaRegistry: kafka.schemaRegistry }),
    });
    let result: ReplayResult;
    try {
      result = await replay({
        log,
        store,
        // Measured (docs/performance.md, "The projection rebuild"): 6 partitions at once keep both Cassandra and
        // the reader busy on 2 cores, where 2 left time idle (~60,000 vs ~57,000 ops/s, after warm-up).
        partitionConcurrency: 6,
        ...pick(options, ['from', 'readBatchSize', 'partitionConcurrency', 'maxOpsPerWrite', 'chunkConcurrency']),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
      });
    } finally {
      await log.close();
      await store.close();
    }
    const consistency =
      options.compareWith === undefined ? undefined : await compareKeyspaces(client, options.compareWith, cc.keyspace);
    return { replay: result, consistency };
  } finally {
    await client.shutdown();
  }
}

/** The given keys of `o` whose values are defined (exactOptionalPropertyTypes-friendly spreading). */
function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
