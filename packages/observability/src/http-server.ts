/**
 * One small HTTP server per service process for what operators scrape and probe: /metrics (Prometheus),
 * /healthz (the process is alive and its event loop turns) and /readyz (its dependencies answer). One port, so
 * a deployment opens one port per service for all three.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadinessReport } from './health.js';
import { readinessResponse } from './health.js';

export interface OpsServerOptions {
  port: number;
  host: string;
  metrics?: (request: IncomingMessage, response: ServerResponse) => void;
  readiness?: () => Promise<ReadinessReport>;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: string) =>
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, '{"error":"GET only"}');
    if (path === '/metrics' && options.metrics !== undefined) return options.metrics(request, response);
    // Health paths only where the service wired readiness: a 200 from a process that checks nothing would lie.
    const readiness = options.readiness;
    if (readiness !== undefined && path === '/healthz') return json(200, '{"status":"alive"}');
    if (readiness !== undefined && path === '/readyz') {
      readiness().then(
        (report) => {
          const { status, body } = readinessResponse(report);
          json(status, body);
        },
        (err: unknown) => json(503, JSON.stringify({ status: 'not ready', error: String(err) })),
      );
      return;
    }
    json(404, '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
