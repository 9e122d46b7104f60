/**
 * Continuing a trace across the op log: the command-service injects the W3C trace context into each Kafka
 * record's headers (`traceparent`, `tracestate`); a consumer extracts it so its spans join the same trace.
 *
 * A consumer gets records in batches, and one batch carries many traces. Following OpenTelemetry's messaging
 * conventions, the batch's span is a child of the first record's context and *links* to the others, so a
 * trace search for any op finds the batch that stored it.
 */
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** Run `fn` in a span continuing the traces carried by `headers` (one set per record of the batch). */
export function continueTrace<T>(
  tracerName: string,
  spanName: string,
  headers: readonly Record<string, string>[],
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const contexts: Context[] = headers.map((h) => propagation.extract(ROOT_CONTEXT, h));
  const parent = contexts[0] ?? ROOT_CONTEXT;
  const links: Link[] = [];
  for (const ctx of contexts.slice(1, 128)) {
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext !== undefined) links.push({ context: spanContext });
  }
  const tracer = trace.getTracer(tracerName);
  return tracer.startActiveSpan(spanName, { kind: SpanKind.CONSUMER, attributes, links }, parent, (span) =>
    settle(span, fn),
  );
}

/** Run `fn` in a child span of the active context (e.g. the store write inside a consumer's span). */
export function tracedSpan<T>(
  tracerName: string,
  spanName: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  return tracer.startActiveSpan(spanName, { kind: SpanKind.CLIENT, attributes }, context.active(), (span) =>
    settle(span, fn),
  );
}

async function settle<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Wrap a consumer's batch handler so each batch runs in a span continuing its records' traces (structural
 * types, so this package needs no port definitions).
 */
export function tracedBatchHandler<R extends { headers: Record<string, string> }, C extends { partition: number }>(
  tracerName: string,
  spanName: string,
  handler: (records: readonly R[], context: C) => Promise<void>,
): (records: readonly R[], context: C) => Promise<void> {
  return (records, ctx) =>
    continueTrace(
      tracerName,
      spanName,
      records.map((r) => r.headers),
      { 'messaging.system': 'kafka', 'messaging.batch.message_count': records.length, partition: ctx.partition },
      () => handler(records, ctx),
    );
}

/**
 * A proxy of `target` whose methods named in `methods` run in a child span of the active context (named
 * `${prefix}.${method}`); every other property passes through untouched.
 */
export function withSpans<T extends object>(tracerName: string, prefix: string, target: T, methods: (keyof T)[]): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!methods.includes(prop as keyof T)) return fn.bind(obj);
      return (...args: unknown[]) =>
        tracedSpan(tracerName, `${prefix}.${String(prop)}`, {}, () => Promise.resolve(fn.apply(obj, args)));
    },
  });
}
