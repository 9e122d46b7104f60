/**
 * `collab serve` — run the editor. Embedded by default: one process, SQLite under ./data, the web editor at
 * http://localhost:8080. Distributed (--mode distributed or COLLAB_MODE=distributed): the command-service on
 * Kafka, configured by its environment variables. Shuts down gracefully on SIGINT/SIGTERM, within
 * COLLAB_SHUTDOWN_TIMEOUT_MS (the process kit of every service: @collab/observability, runServiceProcess).
 */
import { runServiceProcess } from '@collab/observability';
import type { Command } from 'commander';
import pino from 'pino';
import { resolveMode, MODE_HELP } from '../config/mode.js';
import type { EmbeddedConfig } from '../embedded-config.js';
import { ConfigProblems, loadEmbeddedConfig, redactEmbedded } from '../embedded-config.js';
import { startEmbedded } from '../embedded/server.js';
import { EXIT } from '../errors.js';
import { commandServiceProcess, ConfigError, describeCommandServiceConfig } from '../serve/distributed.js';
import { action } from './common.js';

interface ServeOptions {
  mode?: string;
  host?: string;
  port?: string;
  dataDir?: string;
  printConfig?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the editor backend and the web editor (embedded: one process, SQLite, no servers to install)')
    .option('--mode <mode>', MODE_HELP)
    .option(
      '--host <host>',
      'interface to listen on (env COLLAB_HOST, default 127.0.0.1; another one turns dev tokens off)',
    )
    .option('--port <port>', 'port to listen on (env COLLAB_PORT, default 8080; 0 picks a free one)')
    .option('--data-dir <dir>', 'embedded: where documents are stored (env COLLAB_DATA_DIR, default ./data)')
    .option('--print-config', 'print the effective configuration (secrets redacted) and exit')
    .addHelpText(
      'after',
      `
Embedded environment: COLLAB_HOST, COLLAB_PORT, COLLAB_DATA_DIR, COLLAB_JWT_SECRET (default: generated once and
kept in the data folder), COLLAB_JWT_MAX_LIFETIME_SECONDS (default 86400: longer-lived tokens, and tokens
without exp, are refused), COLLAB_PARTITIONS, COLLAB_SNAPSHOT_EVERY, COLLAB_DEV_TOKENS (true: the page can get a
token for any name; default: on for a loopback --host only), COLLAB_ALLOWED_HOSTS, COLLAB_ALLOWED_ORIGINS,
COLLAB_MAX_CONNECTIONS, COLLAB_MAX_CONNECTIONS_PER_IP, COLLAB_AUTH_TIMEOUT_MS, COLLAB_EDGE_TRANSPORT, LOG_LEVEL; limits
(docs/operations.md): COLLAB_MAX_FRAME_BYTES, COLLAB_MAX_OP_INSERT, COLLAB_MAX_DOC_LENGTH, COLLAB_MAX_CATCHUP_BYTES,
COLLAB_OPENS_PER_SECOND, COLLAB_READS_PER_SECOND, COLLAB_READ_CONCURRENCY, COLLAB_READ_QUEUE; stopping: COLLAB_SHUTDOWN_DRAIN_MS,
COLLAB_SHUTDOWN_TIMEOUT_MS.
Distributed: the command-service's variables (KAFKA_BROKERS, COLLAB_JWT_SECRET or COLLAB_JWT_PUBLIC_KEY_FILES,
COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS, ...: see cli/README.md); --host and --port override COLLAB_HOST and
COLLAB_PORT. The projection and snapshot services run as their own processes.
Prints {"ready":true,...} on one line once it accepts connections. Exit codes: 0 stopped by SIGTERM/SIGINT,
1 failed to start or to stop within COLLAB_SHUTDOWN_TIMEOUT_MS, 2 invalid configuration.`,
    )
    .action(
      action(async (opts: ServeOptions) => {
        const resolved = resolveMode(process.env, opts.mode);
        if ('problem' in resolved) throw new ConfigProblems([resolved.problem]);
        return resolved.mode === 'distributed' ? serveDistributed(opts) : serveEmbedded(opts);
      }),
    );
}

async function serveEmbedded(opts: ServeOptions): Promise<number> {
  const flags = {
    ...(opts.host === undefined ? {} : { host: opts.host }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
  };
  if (opts.printConfig === true) {
    const config = loadEmbeddedConfig(process.env, flags);
    console.log(JSON.stringify({ mode: 'embedded', ...redactEmbedded(config) }, null, 2));
    return EXIT.ok;
  }
  // Signals, exit codes, the ready line and the shutdown deadline: the process kit, as in every service.
  return runServiceProcess({
    name: 'collab serve',
    loadConfig: () => loadEmbeddedConfig(process.env, flags),
    isConfigError: (err) => err instanceof ConfigProblems,
    shutdown: (config) => config.shutdown,
    start: async (config, scope) => {
      const logger = pino({ level: config.logLevel, base: { service: 'collab' } });
      const server = await startEmbedded(config, logger);
      scope.defer('server', () => server.close());
      if (config.devTokensReason === 'exposed')
        console.error(exposedDevTokensWarning(config.host, server.service.port));
      console.log(
        [
          '',
          `  collab is running (embedded mode, data in ${config.dataDir})`,
          '',
          `  Open      ${server.url}/?doc=welcome`,
          `  Token     ${TOKEN_LINE[config.devTokensReason]}`,
          `            for other clients: npx collab token --user alice   (or: npm run collab -- token --user alice)`,
          `  WebSocket ${server.url.replace('http', 'ws')}/v1/ws`,
          '',
          '  Ctrl-C stops it; documents are kept.',
          '',
        ].join('\n'),
      );
      return { ready: { url: server.url, port: server.service.port }, logger, drain: () => server.drain() };
    },
  });
}

const TOKEN_LINE: Record<EmbeddedConfig['devTokensReason'], string> = {
  loopback: 'the page asks for your name;',
  exposed: 'the page asks for your name (dev tokens ON for everyone who can reach this port!);',
  'turned-off': 'dev tokens are off (COLLAB_DEV_TOKENS=false): open the page with &token=…;',
  'not-loopback': 'dev tokens are off on a non-loopback --host (COLLAB_DEV_TOKENS=true turns them on): &token=…;',
};

/** Printed to stderr, framed, when dev tokens are on where other machines can reach them. */
export function exposedDevTokensWarning(host: string, port: number): string {
  const lines = [
    `WARNING: development tokens are ON, and the server listens on ${host}, which other machines can reach.`,
    `Anyone who can reach port ${port} gets a token that reads and writes EVERY document (POST /v1/dev/token).`,
    'Only on a network you trust. Unset COLLAB_DEV_TOKENS (or set it to false) to turn them off, and hand out',
    'tokens with `collab token --user NAME` instead.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = `  +${'-'.repeat(width + 2)}+`;
  return ['', bar, ...lines.map((l) => `  | ${l.padEnd(width)} |`), bar, ''].join('\n');
}

async function serveDistributed(opts: ServeOptions): Promise<number> {
  const env = {
    ...process.env,
    ...(opts.host === undefined ? {} : { COLLAB_HOST: opts.host }),
    ...(opts.port === undefined ? {} : { COLLAB_PORT: opts.port }),
  };
  if (opts.printConfig === true) {
    try {
      console.log(JSON.stringify({ mode: 'distributed', ...(describeCommandServiceConfig(env) as object) }, null, 2));
      return EXIT.ok;
    } catch (err) {
      // The command-service's ConfigError lists every problem, like ours: same exit code.
      if (err instanceof ConfigError) throw new ConfigProblems(err.problems);
      throw err;
    }
  }
  // The command-service's own process definition (its main.ts runs the same), with the mode in the ready line.
  const service = commandServiceProcess(env, 'collab serve');
  return runServiceProcess({
    ...service,
    start: async (config, scope) => {
      const started = await service.start(config, scope);
      return { ...started, ready: { mode: 'distributed', ...started.ready } };
    },
  });
}
