/**
 * OpenTelemetry instruments of the command-service. Only the API is used here (no-ops until a process starts an
 * SDK — main.ts does); tests and embedders pay nothing for them.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { context, metrics, propagation, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('collab.command-service');
const meter = metrics.getMeter('collab.command-service');

export const instruments = {
  /** Receive of a submit → its ack sent (ms). */
  opAckLatency: meter.createHistogram('collab.op.ack_latency', {
    unit: 'ms',
    description: 'Time from receiving an op to acknowledging it (durable in the log)',
  }),
  opsCommitted: meter.createCounter('collab.ops.committed', { description: 'Ops committed to the log' }),
  rejections: meter.createCounter('collab.rejections', { description: 'Requests rejected, by error code' }),
  appendLatency: meter.createHistogram('collab.log.append_latency', {
    unit: 'ms',
    description: 'One group-commit append to the op log',
  }),
  appendBatch: meter.createHistogram('collab.log.append_batch', { description: 'Records per append (group commit)' }),
  connections: meter.createUpDownCounter('collab.connections', { description: 'Open WebSocket connections' }),
  openDocuments: meter.createUpDownCounter('collab.documents.open', { description: 'Documents held in memory' }),
  documentLoad: meter.createHistogram('collab.document.load_time', {
    unit: 'ms',
    description: 'Loading a document into memory (first open, takeover, reload): read side + log tail, or the log',
  }),
  remoteOpLag: meter.createHistogram('collab.op.remote_lag', {
    unit: 'ms',
    description: 'An op committed by another instance: commit time to its delivery here (relay consumer lag)',
  }),
  presenceRemoteLag: meter.createHistogram('collab.presence.remote_lag', {
    unit: 'ms',
    description: 'A presence update from another instance: announced there to received here through the bus',
  }),
};

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
