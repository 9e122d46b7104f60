/**
 * Starts OpenTelemetry in a service's entry point (libraries only use @opentelemetry/api). Traces and metrics go
 * to an OTLP endpoint when one is configured; metrics are also served on a Prometheus scrape endpoint, and, when
 * asked (`health: true`), /healthz and /readyz beside it on the same port.
 *
 * Default Prometheus ports, one per service so they can share a host: 9464 command-service, 9465
 * projection-service, 9466 snapshot-service.
 */
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { ReadinessReport } from './health.js';
import { DRAINING } from './health.js';
import type { OpsServer } from './http-server.js';
import { startOpsServer } from './http-server.js';
import { refreshInstruments } from './instruments.js';

export { checkDependencies, DEFAULT_CHECK_TIMEOUT_MS, DRAINING, readinessResponse, runCheck } from './health.js';
export type { CheckResult, DependencyCheck, ReadinessReport } from './health.js';
export { startOpsServer } from './http-server.js';
export { DEFAULT_SHUTDOWN, EXIT_CODES, nodeProcess, runServiceProcess } from './service-process.js';
export type {
  ProcessLogger,
  ProcessPort,
  ServiceProcessDefinition,
  ServiceScope,
  ShutdownSettings,
  StartedService,
} from './service-process.js';
export type { OpsServer, OpsServerOptions } from './http-server.js';
export { continueTrace, tracedBatchHandler, tracedSpan, withSpans } from './propagation.js';
export { defineInstruments, latencyHistogram } from './instruments.js';
// The one OpenTelemetry API of every service (the lint forbids importing @opentelemetry/* elsewhere): two copies
// of different minors ignore each other's registered SDK, and everything made through the other copy is a no-op.
export { context, metrics, propagation, SpanKind, SpanStatusCode, trace, ValueType } from '@opentelemetry/api';
export type { Attributes, Counter, Histogram, Meter, ObservableGauge, Span, UpDownCounter } from '@opentelemetry/api';

export interface TelemetryOptions {
  serviceName: string;
  /** `service.version` (every service passes its package's version: packageVersion(import.meta.url)). */
  serviceVersion?: string;
  instanceId?: string;
  /** Serve Prometheus metrics on this port at /metrics (0 or undefined: off). */
  prometheusPort?: number;
  prometheusHost?: string;
  /** OTLP/HTTP base URL, e.g. http://collector:4318 (undefined: no OTLP export). */
  otlpEndpoint?: string;
  /** How often metrics are pushed over OTLP. */
  otlpMetricIntervalMs?: number;
  /** Also serve /healthz and /readyz on the Prometheus port (/readyz is 503 "starting" until setReadiness). */
  health?: boolean;
}

export interface Telemetry {
  /** The port /metrics (and /healthz, /readyz) listen on once bound; undefined when Prometheus is off. */
  readonly listening: Promise<number | undefined>;
  /** What /readyz checks from now on. */
  setReadiness(readiness: () => Promise<ReadinessReport>): void;
  /** The process is stopping: /readyz answers 503 "draining" from now on, whatever setReadiness said. */
  drain(): void;
  shutdown(): Promise<void>;
}

const STARTING: ReadinessReport = { ready: false, checks: { startup: { ok: false, ms: 0, error: 'starting' } } };

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const readers: IMetricReader[] = [];
  let readiness: () => Promise<ReadinessReport> = () => Promise.resolve(STARTING);
  let opsServer: Promise<OpsServer> | undefined;
  if (options.prometheusPort !== undefined && options.prometheusPort > 0) {
    // Our own server instead of the exporter's, so health and readiness share the scrape port.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    readers.push(exporter);
    opsServer = startOpsServer({
      port: options.prometheusPort,
      host: options.prometheusHost ?? '0.0.0.0',
      metrics: (request, response) => exporter.getMetricsRequestHandler(request, response),
      ...(options.health === true ? { readiness: () => readiness() } : {}),
    });
  }
  if (options.otlpEndpoint !== undefined) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${options.otlpEndpoint}/v1/metrics` }),
        exportIntervalMillis: options.otlpMetricIntervalMs ?? 10_000,
      }),
    );
  }
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
      ...(options.instanceId === undefined ? {} : { 'service.instance.id': options.instanceId }),
    }),
    // No endpoint: spans are still recorded (trace context flows through Kafka headers) but exported nowhere.
    // Without a processor the SDK falls back to OTEL_TRACES_EXPORTER's default, OTLP to localhost:4318, whose
    // refused flush at shutdown turned a clean SIGTERM stop into exit code 1 (projection crash test).
    ...(options.otlpEndpoint === undefined
      ? { spanProcessors: [new tracing.NoopSpanProcessor()] }
      : { traceExporter: new OTLPTraceExporter({ url: `${options.otlpEndpoint}/v1/traces` }) }),
    metricReaders: readers,
    // Node's own figures beside ours: event-loop delay and utilization, heap and GC (nodejs_*, v8js_*).
    instrumentations: [new RuntimeNodeInstrumentation({ monitoringPrecision: 5000 })],
  });
  sdk.start();
  refreshInstruments();
  // A port in use must not kill the service it observes (the exporter behaved the same): say so and go on.
  const listening: Promise<number | undefined> =
    opsServer === undefined
      ? Promise.resolve(undefined)
      : opsServer.then(
          (server) => server.port,
          (err: unknown) => {
            process.stderr.write(
              `telemetry: cannot serve /metrics on port ${options.prometheusPort}: ${String(err)}\n`,
            );
            return undefined;
          },
        );
  let stopping: Promise<void> | undefined;
  let draining = false;
  return {
    listening,
    setReadiness: (fn) => {
      if (!draining) readiness = fn;
    },
    drain: () => {
      draining = true;
      readiness = () => Promise.resolve(DRAINING);
    },
    shutdown: () =>
      (stopping ??= (async () => {
        await opsServer?.then((server) => server.close()).catch(() => {}); // stopping: a close that fails changes nothing
        await sdk.shutdown();
      })()),
  };
}

/**
 * The version in the package.json nearest above a module (`import.meta.url`): a service's `service.version`, the
 * same from source and from the build (dist/src/*.js finds the same package.json). Undefined when none is found.
 */
export function packageVersion(moduleUrl: string): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' ? version : undefined;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }
}
