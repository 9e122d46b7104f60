/**
 * npm run infra:up [-- --detach] [-- --source local|public]
 *
 * Starts the same stack the integration tests use (same images, readiness checks and provisioning) for manual
 * work, and prints `export ...` lines to paste into a shell; tests run with those variables use this stack
 * instead of starting their own. Runs until Ctrl-C (then removes everything), or with --detach exits once ready
 * and leaves the labelled containers for `npm run infra:down`.
 */
import { parseArgs } from 'node:util';
import { dockerStatus } from '../docker.js';
import { endpointsToEnv } from '../endpoints.js';
import { newRunId } from '../harness.js';
import { createLogger } from '../log.js';
import { errorMessage } from '../probes.js';
import { startOrConnect } from '../stack.js';
import { removeHarnessResources } from '../cleanup.js';

const HELP = `Usage: npm run infra:up -- [--detach] [--source local|public]

Starts Kafka, Cassandra, an S3 server and Redis in containers (ports on 127.0.0.1), waits until each
answers a real client request, provisions the ops topic, the bucket and the keyspace, then prints
export lines for KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, S3_ENDPOINT, REDIS_URL, SCHEMA_REGISTRY_URL, ...

  --detach          exit once ready; the containers keep running (remove them: npm run infra:down)
  --source SOURCE   local (default; images from npm run infra:images) or public (official images,
                    needs a registry). Default: COLLAB_STACK when it is local or public.
  -h, --help        this text

Without --detach it runs until Ctrl-C, then removes its containers and network.
Progress is logged as JSON lines on stderr (COLLAB_INFRA_LOG=silent|error|warn|info|debug).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      detach: { type: 'boolean', default: false },
      source: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const env = process.env;
  const source = values.source ?? (env.COLLAB_STACK === 'public' ? 'public' : 'local');
  if (source !== 'local' && source !== 'public') {
    process.stderr.write(`--source must be local or public, not ${source}\n\n${HELP}\n`);
    return 2;
  }
  const docker = await dockerStatus(env);
  if (!docker.reachable) {
    process.stderr.write(
      `No Docker engine is reachable (${docker.reason}).\nStart one (as root: bash infra/scripts/ensure-docker.sh), then: npm run infra:images\n`,
    );
    return 1;
  }
  const logger = createLogger('info');
  const runId = newRunId();
  let ready = false;
  const shutdown = (signal: string) => {
    logger.info({ signal, runId }, ready ? 'stopping the stack' : 'interrupted: removing what was started');
    removeHarnessResources(runId)
      .then((removed) => logger.info({ ...removed }, 'removed'))
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'cleanup failed; run npm run infra:down'))
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  const handle = await startOrConnect({ source }, env, logger, 'up', runId);
  ready = true;
  const lines = Object.entries(endpointsToEnv(handle.endpoints)).map(([k, v]) => `export ${k}=${v}`);
  process.stdout.write(
    `# collab integration stack, run ${runId} (${source} images)\n${lines.join('\n')}\n` +
      `# remove it: ${values.detach ? `npm run infra:down -- --run ${runId}` : 'Ctrl-C here'}\n`,
  );
  if (values.detach) return 0;
  logger.info({ runId }, 'running; Ctrl-C to stop and remove');
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30)); // keep the event loop alive until a signal
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`infra:up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
