/**
 * What the projection-service adds to its metrics port: readiness (Kafka and Cassandra answer, the consumer
 * runs) and traces that continue across the op log (the batch span continues the command-service's trace from
 * the record headers; the Cassandra write is a child span of it).
 */
import type { OpLog, ReadModelStore } from '@collab/core';
import type { DependencyCheck } from '@collab/observability';
import { tracedBatchHandler, withSpans } from '@collab/observability';

const TRACER = 'collab.projection-service';

/** The op log, with every consumed batch in a span continuing its records' traces. */
export function tracedOpLog(log: OpLog): OpLog {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'consume') {
        const consume: OpLog['consume'] = (options) =>
          target.consume({ ...options, handler: tracedBatchHandler(TRACER, 'collab.project', options.handler) });
        return consume;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The read-model store with its write in a span (`cassandra.writeOps`), a child of the batch's. */
export const tracedReadModels = (store: ReadModelStore): ReadModelStore =>
  withSpans(TRACER, 'cassandra', store, ['writeOps']);

/** Readiness: real requests to each dependency; `consuming` tells whether the consumer has started. */
export function readinessChecks(deps: {
  log: OpLog;
  store: ReadModelStore;
  consuming: () => boolean;
}): Record<string, DependencyCheck> {
  return {
    kafka: () => deps.log.endOffsets(),
    // A read of a partition key nobody uses: one real round trip, nothing scanned.
    cassandra: () => deps.store.getHead('__readyz__'),
    consumer: () => (deps.consuming() ? Promise.resolve() : Promise.reject(new Error('not consuming yet'))),
  };
}
