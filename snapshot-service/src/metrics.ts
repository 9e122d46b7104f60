/**
 * The service's OpenTelemetry instruments. Per-document values are aggregated (max, count) instead of labelled
 * by docId: a label per document would be an unbounded cardinality for the metrics backend.
 *
 * - collab.snapshot.age (s): over documents in memory with versions not yet in a snapshot, the largest
 *   now − createdAt of their latest snapshot (now − first unsnapshotted op when they have none). What to alert on.
 * - collab.snapshot.versions_behind: the largest number of versions since the last snapshot (= the ops a
 *   document load has to replay on top of it).
 * - collab.snapshot.documents: documents in memory; .dirty: those with unsnapshotted versions.
 * - collab.snapshot.writes {reason, outcome}, collab.snapshot.write_failures: counters.
 */
import { metrics, type Counter } from '@collab/observability';
import type { SnapshotWorker, SnapshotEvent } from './snapshot-worker.js';

export interface SnapshotMetrics {
  onSnapshot(event: SnapshotEvent): void;
  onWriteAttemptFailed(): void;
}

export function snapshotAgeSummary(worker: SnapshotWorker, now: number) {
  let maxAgeSeconds = 0;
  let maxVersionsBehind = 0;
  let documents = 0;
  let dirty = 0;
  for (const doc of worker.documents()) {
    documents++;
    const behind = doc.state === undefined ? 0 : doc.state.version - doc.snapshotVersion;
    if (behind <= 0) continue;
    dirty++;
    maxVersionsBehind = Math.max(maxVersionsBehind, behind);
    const since = doc.snapshotCreatedAt ?? doc.firstDirtyAt ?? now;
    maxAgeSeconds = Math.max(maxAgeSeconds, (now - since) / 1000);
  }
  return { maxAgeSeconds, maxVersionsBehind, documents, dirty };
}

export function registerMetrics(getWorker: () => SnapshotWorker | undefined): SnapshotMetrics {
  const meter = metrics.getMeter('@collab/snapshot-service');
  const summary = () => {
    const worker = getWorker();
    return worker === undefined ? undefined : snapshotAgeSummary(worker, Date.now());
  };
  meter
    .createObservableGauge('collab.snapshot.age', {
      unit: 's',
      description: 'oldest latest-snapshot age of a dirty active document',
    })
    .addCallback((r) => {
      const s = summary();
      if (s !== undefined) r.observe(s.maxAgeSeconds);
    });
  meter
    .createObservableGauge('collab.snapshot.versions_behind', {
      unit: '{version}',
      description: 'most versions since the last snapshot of an active document',
    })
    .addCallback((r) => {
      const s = summary();
      if (s !== undefined) r.observe(s.maxVersionsBehind);
    });
  meter
    .createObservableGauge('collab.snapshot.documents', { unit: '{document}', description: 'documents in memory' })
    .addCallback((r) => {
      const s = summary();
      if (s === undefined) return;
      r.observe(s.documents, { state: 'all' });
      r.observe(s.dirty, { state: 'dirty' });
    });
  const writes: Counter = meter.createCounter('collab.snapshot.writes', {
    unit: '{snapshot}',
    description: 'snapshots written',
  });
  const failures: Counter = meter.createCounter('collab.snapshot.write_failures', {
    unit: '{attempt}',
    description: 'failed snapshot write attempts (each is retried with backoff)',
  });
  return {
    onSnapshot: (event) => writes.add(1, { reason: event.reason, outcome: event.outcome }),
    onWriteAttemptFailed: () => failures.add(1),
  };
}
