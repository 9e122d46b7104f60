/**
 * Starts OpenTelemetry in a service's entry point (libraries only use @opentelemetry/api). Traces and metrics go
 * to an OTLP endpoint when one is configured; metrics are also served on a Prometheus scrape endpoint.
 */
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  instanceId?: string;
  /** Serve Prometheus metrics on this port at /metrics (0 or undefined: off). */
  prometheusPort?: number;
  prometheusHost?: string;
  /** OTLP/HTTP base URL, e.g. http://collector:4318 (undefined: no OTLP export). */
  otlpEndpoint?: string;
  /** How often metrics are pushed over OTLP. */
  otlpMetricIntervalMs?: number;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const readers: IMetricReader[] = [];
  if (options.prometheusPort !== undefined && options.prometheusPort > 0) {
    readers.push(new PrometheusExporter({ port: options.prometheusPort, host: options.prometheusHost ?? '0.0.0.0' }));
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
    ...(options.otlpEndpoint === undefined
      ? {}
      : { traceExporter: new OTLPTraceExporter({ url: `${options.otlpEndpoint}/v1/traces` }) }),
    metricReaders: readers,
    instrumentations: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  return { shutdown: () => (stopping ??= sdk.shutdown()) };
}
