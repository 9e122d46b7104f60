/**
 * OpenTelemetry instruments of the command-service. Only the API is used here (no-ops until a process starts an
 * SDK — run.ts does); tests and embedders pay nothing for them. Durations are in seconds (the base unit of the
 * OpenTelemetry and Prometheus conventions); `secondsSince` turns a `performance.now()` start into one.
 */
import type { Attributes, Span } from '@collab/observability';
import {
  context,
  defineInstruments,
  latencyHistogram,
  propagation,
  SpanStatusCode,
  trace,
} from '@collab/observability';

export const TRACER_NAME = 'collab.command-service';
const tracer = trace.getTracer(TRACER_NAME);

/** What an instance reports at each metric collection (read, not pushed: gauges of its current state). */
export interface InstanceGauges {
  openDocuments(): number;
  /** Absent without presence. */
  presenceMembers?(): { local: number; remote: number };
}

/** The servers of this process (one, except in tests), read by the gauges at each collection. */
const observed = new Set<InstanceGauges>();

/** Report a server's state in the gauges until the returned function is called. */
export function observeInstance(gauges: InstanceGauges): () => void {
  observed.add(gauges);
  return () => observed.delete(gauges);
}

export const instruments = defineInstruments('collab.command-service', (meter) => ({
  opAckLatency: meter.createHistogram(
    'collab.op.ack_latency',
    latencyHistogram('Time from receiving an op to acknowledging it (durable in the log)'),
  ),
  opsCommitted: meter.createCounter('collab.ops.committed', { unit: '{op}', description: 'Ops committed to the log' }),
  rejections: meter.createCounter('collab.rejections', {
    unit: '{request}',
    description: 'Requests rejected, by error code',
  }),
  appendLatency: meter.createHistogram(
    'collab.log.append_latency',
    latencyHistogram('One group-commit append to the op log'),
  ),
  appendBatch: meter.createHistogram('collab.log.append_batch', {
    unit: '{record}',
    description: 'Records per append (group commit)',
    advice: { explicitBucketBoundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] },
  }),
  connections: meter.createUpDownCounter('collab.connections', {
    unit: '{connection}',
    description: 'Open WebSocket connections',
  }),
  openDocuments: meter
    .createObservableGauge('collab.documents.open', { unit: '{document}', description: 'Documents held in memory' })
    .addCallback((result) => {
      let open = 0;
      for (const instance of observed) open += instance.openDocuments();
      result.observe(open);
    }),
  documentLoad: meter.createHistogram(
    'collab.document.load_time',
    latencyHistogram('Loading a document into memory (first open, takeover, reload): read side + log tail, or the log'),
  ),
  remoteOpLag: meter.createHistogram(
    'collab.op.remote_lag',
    latencyHistogram('An op committed by another instance: commit time to its delivery here (relay consumer lag)'),
  ),
  presenceRemoteLag: meter.createHistogram(
    'collab.presence.remote_lag',
    latencyHistogram('A presence update from another instance: announced there to received here through the bus'),
  ),
  presenceUpdateLatency: meter.createHistogram(
    'collab.presence.update_latency',
    latencyHistogram(
      "A client's presence update: received to sent to this instance's sessions and the bus (throttle included)",
    ),
  ),
  presenceThrottled: meter.createCounter('collab.presence.throttled', {
    unit: '{update}',
    description: 'Presence updates held by the per-session throttle, by outcome (delayed, replaced by a newer one)',
  }),
  presenceMembers: meter
    .createObservableGauge('collab.presence.members', {
      unit: '{session}',
      description: "Sessions present in this instance's open documents: its own (local) and other instances' (remote)",
    })
    .addCallback((result) => {
      let local = 0;
      let remote = 0;
      for (const instance of observed) {
        const members = instance.presenceMembers?.() ?? { local: 0, remote: 0 };
        local += members.local;
        remote += members.remote;
      }
      result.observe(local, { where: 'local' });
      result.observe(remote, { where: 'remote' });
    }),
  clientResyncs: meter.createCounter('collab.client.resyncs', {
    unit: '{resync}',
    description:
      'Clients reloading a document they hold, by the reason they give (hash_mismatch is a divergence: page on it)',
  }),
}));

/** Seconds since `started` (a `performance.now()` reading): the unit every duration is recorded in. */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

/** Run `fn` in a new active span; records errors and ends the span. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active trace context as W3C headers (`traceparent`, ...), to carry in Kafka record headers. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
