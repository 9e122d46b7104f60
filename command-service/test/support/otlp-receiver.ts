/**
 * A small OTLP/HTTP receiver on loopback, standing in for an OpenTelemetry collector: it accepts the JSON encoding
 * the services' exporters send (`POST /v1/traces`, `POST /v1/metrics`) and keeps what arrived, flattened to the
 * fields tests look at (which service sent it, span ids and links, metric names and their totals).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  instance: string | undefined;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface ReceivedMetric {
  service: string;
  name: string;
  unit: string | undefined;
  /** Sum of the data points' values (counters, gauges) or counts (histograms) in one export. */
  total: number;
}

type Attribute = { key: string; value: { stringValue?: string } };
type Resource = { resource?: { attributes?: Attribute[] } };
type DataPoints = { dataPoints?: Array<{ asInt?: string | number; asDouble?: number; count?: string | number }> };

const attribute = (r: Resource, key: string) => r.resource?.attributes?.find((a) => a.key === key)?.value.stringValue;

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];

  private constructor(private readonly server: Server) {}

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  static async start(port = 0): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          if (req.url === '/v1/traces') receiver.addTraces(body);
          else if (req.url === '/v1/metrics') receiver.addMetrics(body);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end(); // not JSON: an exporter configured for protobuf would show up here
        }
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  metricNames(service: string): Set<string> {
    return new Set(this.metrics.filter((m) => m.service === service).map((m) => m.name));
  }

  /** The largest total a service exported for a metric (cumulative temporality: the newest export is largest). */
  metricTotal(service: string, name: string): number {
    return Math.max(0, ...this.metrics.filter((m) => m.service === service && m.name === name).map((m) => m.total));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private addTraces(body: unknown): void {
    type Span = {
      name: string;
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      links?: Array<{ traceId: string; spanId: string }>;
    };
    const { resourceSpans = [] } = body as {
      resourceSpans?: Array<Resource & { scopeSpans?: Array<{ spans?: Span[] }> }>;
    };
    for (const rs of resourceSpans) {
      for (const scope of rs.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service: attribute(rs, 'service.name') ?? '',
            instance: attribute(rs, 'service.instance.id'),
            name: span.name,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
            links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          });
        }
      }
    }
  }

  private addMetrics(body: unknown): void {
    type Metric = { name: string; unit?: string; sum?: DataPoints; gauge?: DataPoints; histogram?: DataPoints };
    const { resourceMetrics = [] } = body as {
      resourceMetrics?: Array<Resource & { scopeMetrics?: Array<{ metrics?: Metric[] }> }>;
    };
    for (const rm of resourceMetrics) {
      for (const scope of rm.scopeMetrics ?? []) {
        for (const metric of scope.metrics ?? []) {
          const points = (metric.sum ?? metric.gauge ?? metric.histogram)?.dataPoints ?? [];
          const total = points.reduce(
            (sum, p) => sum + Number(metric.histogram === undefined ? (p.asInt ?? p.asDouble ?? 0) : (p.count ?? 0)),
            0,
          );
          this.metrics.push({
            service: attribute(rm, 'service.name') ?? '',
            name: metric.name,
            unit: metric.unit,
            total,
          });
        }
      }
    }
  }
}

/** The value of one sample line of a Prometheus text exposition (summed over label sets), or 0. */
export function promValue(exposition: string, sample: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== sample) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).some(([k, v]) => !set.includes(`${k}="${v}"`))) continue;
    total += Number(match[3]);
  }
  return total;
}
