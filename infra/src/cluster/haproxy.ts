/**
 * The load balancer's configuration for the local cluster (`npm run stack:up`): HAProxy in front of the
 * command-service instances. What it must get right for collaborative editing:
 *  - WebSocket upgrades pass through (HAProxy switches the connection to a tunnel after `101`), and the tunnel's
 *    idle timeout outlives the protocol's heartbeat: the server's welcome sets `heartbeatMs` to half its idle
 *    timeout (COLLAB_IDLE_TIMEOUT_SECONDS, default 60 s), the SDK pings after that much silence, so a quiet
 *    editor sends something every ≤ 30 s; the tunnel allows twice the server's idle timeout.
 *  - Instances leave the rotation on their readiness endpoint (`/readyz`: 503 while starting, draining or cut
 *    off from Kafka), checked every `checkIntervalMs`, before their sockets close (COLLAB_SHUTDOWN_DRAIN_MS).
 *  - Affinity: `balance url_param doc` with consistent hashing sends every editor of a document (the web
 *    editor's `?doc=` hint on the WebSocket URL, docs/protocol.md) to the same instance, so at most one
 *    instance forwards that document's ops to its owner; connections without the hint are spread round-robin.
 *  - Instance addresses are re-resolved through Docker's DNS, so a restarted container (new IP) comes back.
 */

export interface HaproxyBackend {
  /** Server name in HAProxy's logs and stats. */
  name: string;
  host: string;
  port: number;
}

export interface HaproxyOptions {
  backends: readonly HaproxyBackend[];
  /** Port the editors connect to (inside the container). */
  port: number;
  /** Port of `/healthz` (monitor-uri, the image's HEALTHCHECK) and `/stats`. */
  statsPort: number;
  /** The instances' COLLAB_IDLE_TIMEOUT_SECONDS: the WebSocket tunnel stays open twice that long when idle. */
  serverIdleTimeoutSeconds: number;
  /** Readiness check interval; an instance is out after 2 failed checks, back after 2 passed. */
  checkIntervalMs: number;
}

const HOST_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function haproxyConfig(options: HaproxyOptions): string {
  if (options.backends.length === 0) throw new Error('haproxyConfig: at least one backend');
  for (const b of options.backends) {
    if (!HOST_PATTERN.test(b.name) || !HOST_PATTERN.test(b.host)) {
      throw new Error(`haproxyConfig: invalid backend name or host: ${JSON.stringify(b)}`);
    }
  }
  const tunnelSeconds = options.serverIdleTimeoutSeconds * 2;
  const servers = options.backends.map(
    (b) => `  server ${b.name} ${b.host}:${b.port} check resolvers docker init-addr last,libc,none`,
  );
  return [
    'global',
    '  log stdout format raw local0 info',
    '  maxconn 8000', // two descriptors per proxied connection: within the container's open-files limit
    '',
    'resolvers docker',
    '  nameserver dns 127.0.0.11:53',
    '  hold valid 5s',
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlognull',
    // A connection refused by an instance that just died goes to another one instead of failing.
    '  option redispatch',
    '  retries 3',
    '  timeout connect 5s',
    '  timeout http-request 10s',
    '  timeout client 60s',
    '  timeout server 60s',
    `  timeout tunnel ${tunnelSeconds}s`,
    '  timeout client-fin 5s',
    '',
    'frontend monitor',
    `  bind :${options.statsPort}`,
    '  monitor-uri /healthz',
    '  stats enable',
    '  stats uri /stats',
    '  stats refresh 5s',
    '',
    'frontend editors',
    `  bind :${options.port}`,
    '  default_backend command_service',
    '',
    'backend command_service',
    '  balance url_param doc',
    '  hash-type consistent',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    `  default-server inter ${options.checkIntervalMs} fall 2 rise 2`,
    ...servers,
    '',
  ].join('\n');
}
