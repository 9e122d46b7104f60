/**
 * `collab serve` — run the editor. Embedded by default: one process, SQLite under ./data, the web editor at
 * http://localhost:8080. Shuts down gracefully on SIGINT/SIGTERM; on restart every document is back.
 */
import type { Command } from 'commander';
import pino from 'pino';
import { ConfigProblems, loadEmbeddedConfig, redactEmbedded } from '../embedded-config.js';
import { startEmbedded } from '../embedded/server.js';

interface ServeOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  printConfig?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the editor backend and the web editor (embedded: one process, SQLite, no servers to install)')
    .option('--host <host>', 'interface to listen on (env COLLAB_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env COLLAB_PORT, default 8080; 0 picks a free one)')
    .option('--data-dir <dir>', 'where documents are stored (env COLLAB_DATA_DIR, default ./data)')
    .option('--print-config', 'print the effective configuration (secrets redacted) and exit')
    .addHelpText(
      'after',
      `
Environment: COLLAB_HOST, COLLAB_PORT, COLLAB_DATA_DIR, COLLAB_JWT_SECRET (default: generated once and kept in
the data folder), COLLAB_PARTITIONS, COLLAB_SNAPSHOT_EVERY, COLLAB_DEV_TOKENS (true: the page can get a token
for any name), LOG_LEVEL. The distributed services run from their own folders (see docs/operations.md).`,
    )
    .action(async (opts: ServeOptions) => {
      let config;
      try {
        config = loadEmbeddedConfig(process.env, {
          ...(opts.host === undefined ? {} : { host: opts.host }),
          ...(opts.port === undefined ? {} : { port: opts.port }),
          ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
        });
      } catch (err) {
        if (err instanceof ConfigProblems) {
          console.error(err.message);
          process.exit(2);
        }
        throw err;
      }
      if (opts.printConfig === true) {
        console.log(JSON.stringify(redactEmbedded(config), null, 2));
        return;
      }
      const logger = pino({ level: config.logLevel, base: { service: 'collab' } });
      const server = await startEmbedded(config, logger);
      console.log(
        [
          '',
          `  collab is running (embedded mode, data in ${config.dataDir})`,
          '',
          `  Open      ${server.url}/?doc=welcome`,
          `  Token     the page asks for your name${config.devTokens ? '' : ' (dev tokens are off: pass ?token=…)'};`,
          `            for other clients: npx collab token --user alice   (or: npm run collab -- token --user alice)`,
          `  WebSocket ${server.url.replace('http', 'ws')}/v1/ws`,
          '',
          '  Ctrl-C stops it; documents are kept.',
          '',
        ].join('\n'),
      );
      // Machine-readable readiness line for supervisors and tests.
      console.log(JSON.stringify({ ready: true, url: server.url, port: server.service.port }));
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
