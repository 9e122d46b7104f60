/**
 * What the snapshot-service adds to its metrics port: readiness (Kafka, Cassandra and S3 answer, the worker
 * consumes) and traces across the op log (each batch continues the command-service's trace from its records'
 * headers; the S3 write started from it is a child span).
 */
import type { OpLog, ReadModelStore, SnapshotStore } from '@collab/core';
import type { DependencyCheck } from '@collab/observability';
import { tracedBatchHandler, withSpans } from '@collab/observability';

const TRACER = 'collab.snapshot-service';

/** The op log, with every consumed batch in a span continuing its records' traces. */
export function tracedOpLog(log: OpLog): OpLog {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'consume') {
        const consume: OpLog['consume'] = (options) =>
          target.consume({ ...options, handler: tracedBatchHandler(TRACER, 'collab.snapshot.fold', options.handler) });
        return consume;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The snapshot store with its write in a span (`s3.put`). The write runs in the background of the batch that
 * made the document due, and the async context carries the batch's span to it (or a tick's, when the policy
 * fires on idle: then the span starts a trace of its own).
 */
export const tracedSnapshots = (store: SnapshotStore): SnapshotStore => withSpans(TRACER, 's3', store, ['put']);

export function readinessChecks(deps: {
  log: OpLog;
  readModels: ReadModelStore;
  snapshots: SnapshotStore;
  consuming: () => boolean;
}): Record<string, DependencyCheck> {
  return {
    kafka: () => deps.log.endOffsets(),
    cassandra: () => deps.readModels.getHead('__readyz__'),
    // A list under a prefix nobody uses: one real request that needs the bucket and the credentials.
    s3: () => deps.snapshots.list('__readyz__'),
    consumer: () => (deps.consuming() ? Promise.resolve() : Promise.reject(new Error('not consuming yet'))),
  };
}
