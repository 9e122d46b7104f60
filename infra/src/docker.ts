/**
 * Is a Docker engine reachable? Asked once, bounded, before anything tries to start containers — the answer
 * decides between running the integration suite, skipping it (developer machine) and failing (CI).
 */
import { request } from 'node:http';
import { getContainerRuntimeClient } from 'testcontainers';
import { errorMessage, withTimeout } from './probes.js';

/**
 * Testcontainers settings the harness needs, set once before its first use (its client is cached):
 *  - Ryuk (the reaper container) must be pulled from a registry, which our machines cannot reach; the harness
 *    removes its containers itself (root hooks, signal handlers, `npm run infra:down`).
 *  - Ports are mapped to 127.0.0.1, so that is the host to use — Testcontainers would otherwise pick the
 *    bridge gateway whenever /.dockerenv exists (as it does on our CI machines).
 * Explicit values (e.g. TESTCONTAINERS_RYUK_DISABLED=false on a machine with a registry) are respected.
 */
export function prepareTestcontainers(env: NodeJS.ProcessEnv = process.env): void {
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

export type DockerStatus = { reachable: true } | { reachable: false; reason: string };

/** GET /_ping on a unix socket: 200 "OK" from a live engine. */
function pingUnixSocket(socketPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`${socketPath}: /_ping answered HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * DOCKER_HOST, when set, is the engine the developer means: Testcontainers would quietly fall back to
 * /var/run/docker.sock when it does not answer, so a unix DOCKER_HOST is checked directly first.
 */
export async function dockerStatus(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<DockerStatus> {
  prepareTestcontainers(env);
  const host = env.DOCKER_HOST ?? '';
  try {
    if (host.startsWith('unix://')) await pingUnixSocket(host.slice('unix://'.length), timeoutMs);
    await withTimeout(getContainerRuntimeClient(), timeoutMs, 'connecting to the Docker engine');
    return { reachable: true };
  } catch (err) {
    return { reachable: false, reason: `${host || 'default Docker socket'}: ${errorMessage(err)}` };
  }
}
