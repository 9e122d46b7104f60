/**
 * Projection lag per partition, kept by each instance for the partitions it owns, and published as OpenTelemetry
 * gauges (attribute `partition`):
 *
 * - `collab.projection.lag.ops`: end offset (last stable offset) − the next offset to project − 1, at least 0.
 *   Offsets are not record counts: a writer's claim takes two (an aborted record and its marker), each hourly
 *   renewal of the claim one (a marker), and logs written before 2026-12-08 have a commit marker after each
 *   append. So a caught-up partition reads 0, or the markers after its last op less one until the next op is
 *   projected: an idle partition's gauge creeps up by one an hour, far below the lag alert's 1,000. Good enough
 *   to alert on; exact counts would need the consumer's fetch position, which the port does not expose.
 * - `collab.projection.lag.last_projected_age` (s): now − commit time of the last op projected. Grows while a
 *   partition is idle, so on its own it is not an alarm; it is the "how fresh are the read models" number.
 * - `collab.projection.lag.oldest_unprojected_age` (s): how long the oldest op not projected yet has been waiting:
 *   0 when caught up; the commit time of the first record of the batch in hand when there is one; otherwise the
 *   last projected op's age, an upper bound (the next op was committed after it). This is the one to alert on.
 *
 * End offsets come from the log (`refresh()`, on an interval): the gauge callbacks only read memory, so a metrics
 * scrape never waits for Kafka. Where this instance has projected nothing yet for a partition, the position is
 * the group's committed offset, if the caller can tell it (`committedOffsets`).
 */
import type { LogRecord, Offset, OpLog } from '@collab/core';
import type { Meter } from '@collab/observability';

export interface PartitionLag {
  partition: number;
  /** The log's end (last stable offset) at the last refresh. */
  endOffset: Offset | undefined;
  /** The next offset to project (last projected + 1, or the group's committed offset). */
  position: Offset | undefined;
  lagOps: number | undefined;
  lastProjectedAgeSeconds: number | undefined;
  oldestUnprojectedAgeSeconds: number | undefined;
}

export interface LagTrackerOptions {
  log: Pick<OpLog, 'endOffsets'>;
  /** The group's committed offsets (next offset to read), for partitions with none projected here yet. */
  committedOffsets?: () => Promise<Map<number, Offset>>;
  now?: () => number;
}

interface PartitionState {
  position: Offset | undefined;
  lastProjectedTimestamp: number | undefined;
  /** The first record of the batch being projected, while there is one. */
  inHand: { offset: Offset; timestamp: number } | undefined;
}

export interface LagTracker {
  assigned(partitions: number[]): void;
  revoked(partitions: number[]): void;
  batchStarted(partition: number, first: LogRecord): void;
  projected(partition: number, last: LogRecord): void;
  /** Fetch end offsets (and committed offsets where needed) now. */
  refresh(): Promise<void>;
  snapshot(): PartitionLag[];
  /** Register the gauges on `meter`. */
  observe(meter: Meter, attributes?: Record<string, string>): void;
}

export function createLagTracker(options: LagTrackerOptions): LagTracker {
  const now = options.now ?? Date.now;
  const partitions = new Map<number, PartitionState>();
  let ends: Offset[] = [];

  const state = (partition: number): PartitionState => {
    let s = partitions.get(partition);
    if (s === undefined) {
      s = { position: undefined, lastProjectedTimestamp: undefined, inHand: undefined };
      partitions.set(partition, s);
    }
    return s;
  };
  const seconds = (ms: number) => Math.max(0, ms) / 1000;

  const lagOf = (partition: number, s: PartitionState): PartitionLag => {
    const endOffset = ends[partition];
    const behind = endOffset === undefined || s.position === undefined ? undefined : endOffset - s.position;
    // Minus the commit marker that follows the last projected transaction (see the header).
    const lagOps = behind === undefined ? undefined : Number(behind > 1n ? behind - 1n : 0n);
    const t = now();
    const lastProjectedAgeSeconds =
      s.lastProjectedTimestamp === undefined ? undefined : seconds(t - s.lastProjectedTimestamp);
    let oldestUnprojectedAgeSeconds: number | undefined;
    if (lagOps === 0) oldestUnprojectedAgeSeconds = 0;
    else if (s.inHand !== undefined) oldestUnprojectedAgeSeconds = seconds(t - s.inHand.timestamp);
    else if (lagOps !== undefined) oldestUnprojectedAgeSeconds = lastProjectedAgeSeconds;
    return {
      partition,
      endOffset,
      position: s.position,
      lagOps,
      lastProjectedAgeSeconds,
      oldestUnprojectedAgeSeconds,
    };
  };

  const tracker: LagTracker = {
    assigned(list) {
      for (const p of list) state(p);
    },
    revoked(list) {
      for (const p of list) partitions.delete(p);
    },
    batchStarted(partition, first) {
      state(partition).inHand = { offset: first.offset, timestamp: first.value.timestamp };
    },
    projected(partition, last) {
      const s = state(partition);
      s.position = last.offset + 1n;
      s.lastProjectedTimestamp = last.value.timestamp;
      s.inHand = undefined;
    },
    async refresh() {
      ends = await options.log.endOffsets();
      const unknown = [...partitions].filter(([, s]) => s.position === undefined);
      if (unknown.length > 0 && options.committedOffsets !== undefined) {
        const committed = await options.committedOffsets();
        for (const [p, s] of unknown) {
          const offset = committed.get(p);
          // Re-check: a batch may have been projected while we waited.
          if (offset !== undefined && s.position === undefined) s.position = offset;
        }
      }
    },
    snapshot() {
      return [...partitions].sort(([a], [b]) => a - b).map(([p, s]) => lagOf(p, s));
    },
    observe(meter, attributes = {}) {
      const ops = meter.createObservableGauge('collab.projection.lag.ops', {
        unit: '{offset}',
        description:
          'Ops not projected yet (end offset minus next offset, less the trailing commit marker), per owned partition',
      });
      const lastAge = meter.createObservableGauge('collab.projection.lag.last_projected_age', {
        unit: 's',
        description: 'Now minus the commit time of the last op projected, per partition',
      });
      const oldestAge = meter.createObservableGauge('collab.projection.lag.oldest_unprojected_age', {
        unit: 's',
        description: 'Age of the oldest op not projected yet (0 when caught up), per partition',
      });
      meter.addBatchObservableCallback(
        (result) => {
          for (const lag of tracker.snapshot()) {
            const attrs = { ...attributes, partition: lag.partition };
            if (lag.lagOps !== undefined) result.observe(ops, lag.lagOps, attrs);
            if (lag.lastProjectedAgeSeconds !== undefined) result.observe(lastAge, lag.lastProjectedAgeSeconds, attrs);
            if (lag.oldestUnprojectedAgeSeconds !== undefined) {
              result.observe(oldestAge, lag.oldestUnprojectedAgeSeconds, attrs);
            }
          }
        },
        [ops, lastAge, oldestAge],
      );
    },
  };
  return tracker;
}
