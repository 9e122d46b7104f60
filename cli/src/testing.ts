/**
 * `@collab/cli/testing`: the embedded server (`collab serve`: SQLite, projections, snapshots, the web page) in
 * your test's own process, on a free port and a fresh data folder, with tokens signed by its secret — for the
 * integration tests of apps built on the SDK. For a server in a container instead, see @collab/testcontainers.
 *
 *   const server = await startTestServer();
 *   const client = new CollabClient({ url: server.wsUrl, token: () => server.token('alice'), WebSocket });
 *   ...
 *   await server.close(); // and the data folder is gone
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Permission } from '@collab/command-service';
import { signDevToken } from '@collab/command-service';
import pino from 'pino';
import { loadEmbeddedConfig, type EmbeddedConfig } from './embedded-config.js';
import { startEmbedded, type EmbeddedServer } from './embedded/server.js';

export interface TestServer {
  /** http://127.0.0.1:PORT: the read API (`/v1/docs/:id`), the page, `/healthz`. */
  readonly url: string;
  /** ws://127.0.0.1:PORT/v1/ws: where the SDK connects. */
  readonly wsUrl: string;
  /** The server's data folder (removed by close() when the fixture made it). */
  readonly dataDir: string;
  /** A token for `userId`, signed with the server's secret: every document read+write unless `docs` says. */
  token(userId: string, options?: { docs?: Record<string, Permission[]>; name?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Keep the data here (not removed on close); default: a fresh temporary folder, removed on close. */
  dataDir?: string;
  /** More configuration, as `collab serve` reads it from the environment (e.g. COLLAB_MAX_DOCUMENTS). */
  env?: Record<string, string>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'collab-test-server-'));
  const removeOwnFolder = () => {
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  let config: EmbeddedConfig;
  let started: EmbeddedServer;
  try {
    // A bad configuration, like a failed start, leaves no folder of ours behind.
    config = loadEmbeddedConfig({ LOG_LEVEL: 'silent', ...options.env }, { port: '0', dataDir });
    started = await startEmbedded(config, pino({ level: 'silent' }));
  } catch (err) {
    removeOwnFolder();
    throw err;
  }
  return {
    url: started.url,
    wsUrl: `${started.url.replace(/^http/, 'ws')}/v1/ws`,
    dataDir,
    token: (userId, tokenOptions = {}) =>
      signDevToken({
        secret: config.jwtSecret,
        userId,
        docs: tokenOptions.docs ?? { '*': ['read', 'write'] },
        ...(tokenOptions.name === undefined ? {} : { name: tokenOptions.name }),
      }),
    async close() {
      await started.close();
      removeOwnFolder();
    },
  };
}
