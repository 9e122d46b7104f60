/**
 * startProjectionService: the projector run in a consumer group over the ops topic. Every instance started with
 * the same groupId gets a share of the partitions (one owner per partition at a time); a crash or a rebalance
 * hands a partition to another member, which resumes after the last committed checkpoint. Anything projected
 * after that checkpoint is projected again, which is harmless (idempotent writes).
 */
import type { Consumer, Logger, Offset, OpLog, ReadModelStore } from '@collab/core';
import { defineInstruments, latencyHistogram, metrics } from '@collab/observability';
import { createLagTracker, type LagTracker, type PartitionLag } from './lag.js';
import { createProjector, type RetryPolicy } from './projector.js';

export interface ProjectionServiceOptions {
  log: OpLog;
  store: ReadModelStore;
  /** The consumer group: instances sharing it split the partitions. */
  groupId: string;
  logger: Logger;
  retry?: RetryPolicy;
  /** How often end offsets are fetched for the lag gauges. Default 5 s; 0 turns the refresh off. */
  lagRefreshMs?: number;
  /** The group's committed offsets, to report lag for owned partitions that had nothing to project yet. */
  committedOffsets?: () => Promise<Map<number, Offset>>;
  maxOpsPerWrite?: number;
  writeConcurrency?: number;
  /**
   * How long a fetch may gather records before a batch is projected (ms). The read models' cost is mostly per
   * batch and document (a block write and a head write; until 2026-12-07 the head was a Paxos round), so at
   * typing speed small batches cost Cassandra several times the CPU per op: in bench:load (200 users, 40
   * documents, with the Paxos head) Cassandra used 13 s of CPU with 0 ms, 11.5 s with 100, 7 s with 500 and
   * 4.5–5.3 s with 1,000 (docs/performance.md).
   * Default 500: the read models lag up to that much more; the command-service's loads are unaffected (they
   * read the Kafka tail past the projection's offsets). 0: project each record as soon as it is fetched.
   */
  batchWaitMs?: number;
}

export interface ProjectionService {
  /** The partitions this instance owns and how far behind each is (as of the last refresh). */
  lag(): PartitionLag[];
  refreshLag(): Promise<void>;
  /** Stop consuming (the batch in hand finishes and its checkpoint is committed). Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_BATCH_WAIT_MS = 500;

const METER = 'collab.projection-service';
const instruments = defineInstruments(METER, (meter) => ({
  opsProjected: meter.createCounter('collab.projection.ops', {
    unit: '{op}',
    description: 'Ops written to the read models',
  }),
  batchDuration: meter.createHistogram(
    'collab.projection.batch_duration',
    latencyHistogram('Writing one batch of one partition, retries included'),
  ),
  batchFailures: meter.createCounter('collab.projection.batch_failures', {
    unit: '{batch}',
    description: 'Batches that failed after retries and will be redelivered',
  }),
}));

export async function startProjectionService(options: ProjectionServiceOptions): Promise<ProjectionService> {
  const { log, logger, groupId } = options;
  const lag: LagTracker = createLagTracker({
    log,
    ...(options.committedOffsets === undefined ? {} : { committedOffsets: options.committedOffsets }),
  });
  // Taken here, not at module load: the entry point has started the SDK by now (a meter taken before is a no-op).
  lag.observe(metrics.getMeter(METER), { group: groupId });

  const projector = createProjector({
    store: options.store,
    logger,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.maxOpsPerWrite === undefined ? {} : { maxOpsPerWrite: options.maxOpsPerWrite }),
    ...(options.writeConcurrency === undefined ? {} : { writeConcurrency: options.writeConcurrency }),
    onProjected: (partition, last, count) => {
      lag.projected(partition, last);
      instruments.opsProjected.add(count, { partition });
    },
  });

  const consumer: Consumer = await log.consume({
    groupId,
    // A new group projects the whole topic: the read models are derived from all of it.
    fromBeginning: true,
    batchWaitMs: options.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS,
    handler: async (records, context) => {
      const first = records[0];
      if (first === undefined) return;
      lag.batchStarted(context.partition, first);
      const started = performance.now();
      try {
        await projector(records, context);
      } catch (err) {
        instruments.batchFailures.add(1, { partition: context.partition });
        throw err;
      } finally {
        instruments.batchDuration.record((performance.now() - started) / 1000, { partition: context.partition });
      }
    },
    onAssigned: (partitions) => {
      lag.assigned(partitions);
      logger.info({ groupId, partitions }, 'partitions assigned');
    },
    onRevoked: (partitions) => {
      lag.revoked(partitions);
      logger.info({ groupId, partitions }, 'partitions revoked');
    },
  });

  const refreshMs = options.lagRefreshMs ?? 5_000;
  const refreshLag = async () => {
    try {
      await lag.refresh();
    } catch (err) {
      // Metrics must not take the service down; the gauges keep their last values.
      logger.warn({ err }, 'could not refresh projection lag');
    }
  };
  const timer = refreshMs > 0 ? setInterval(() => void refreshLag(), refreshMs) : undefined;
  timer?.unref();
  void refreshLag();

  let stopping: Promise<void> | undefined;
  return {
    lag: () => lag.snapshot(),
    refreshLag,
    stop() {
      stopping ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        await consumer.stop();
        logger.info({ groupId }, 'projection consumer stopped');
      })();
      return stopping;
    },
  };
}
