/**
 * GET /healthz and GET /readyz for a command-service instance, as HttpRoutes served beside the WebSocket.
 *
 * - /healthz: the process is alive and its event loop answers. Never looks at dependencies: a liveness probe
 *   that fails when Kafka is down would have the orchestrator restart every instance at once, which cures
 *   nothing.
 * - /readyz: 200 only when the op log answers (end offsets within a short timeout) and the instance has work it
 *   can do: it sequences at least one partition, or it relays (forwards submissions through the command bus to
 *   their owner and delivers the owner's commits). 503 otherwise, with a JSON body naming what is down, so a
 *   load balancer stops sending new connections to an instance that could only answer ERR_UNAVAILABLE. Also 503
 *   once the process is stopping (`draining`), while it still serves, so the balancer moves away first.
 */
import type { OpLog } from '@collab/core';
import type { DependencyCheck } from '@collab/observability';
import { checkDependencies, DEFAULT_CHECK_TIMEOUT_MS, DRAINING, readinessResponse } from '@collab/observability';
import type { HttpRoute } from '../transport/http-routes.js';

export interface HealthRoutesOptions {
  log: Pick<OpLog, 'endOffsets'>;
  /** The partitions this instance sequences right now (`service.hub.ownedPartitions`; [] before it started). */
  ownedPartitions: () => readonly number[];
  /** True when submissions for documents owned elsewhere are forwarded (a command bus is configured). */
  relays: boolean;
  /** Per dependency check. Default 2 s. */
  timeoutMs?: number;
  /** True once the process is stopping: /readyz answers 503 "draining" before the sockets close. */
  draining?: () => boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

export function healthRoutes(options: HealthRoutesOptions): HttpRoute[] {
  const checks: Record<string, DependencyCheck> = {
    opLog: () => options.log.endOffsets(),
    ownership: () => {
      if (options.relays || options.ownedPartitions().length > 0) return Promise.resolve();
      return Promise.reject(new Error('owns no partition and does not relay'));
    },
  };
  return [
    {
      method: 'get',
      pattern: '/healthz',
      anyHost: true, // probes address the instance by its IP
      handle: () => ({ status: 200, headers: JSON_HEADERS, body: '{"status":"alive"}' }),
    },
    {
      method: 'get',
      pattern: '/readyz',
      anyHost: true,
      handle: async () => {
        const report =
          options.draining?.() === true
            ? DRAINING
            : await checkDependencies(checks, options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
        const { status, body } = readinessResponse(report);
        return { status, headers: JSON_HEADERS, body };
      },
    },
  ];
}
