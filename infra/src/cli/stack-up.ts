/**
 * npm run stack:up [-- --port 8080] [-- --detach] [-- --no-build]
 *
 * The whole distributed system from the local images (infra/src/cluster/cluster.ts): storage, migrations, two
 * command-services behind HAProxy, the projection and snapshot services. Prints the editor's URL; runs until
 * Ctrl-C (then stops every service with SIGTERM and removes everything), or with --detach leaves it running for
 * `npm run stack:down`.
 */
import { parseArgs } from 'node:util';
import { ImageName, getContainerRuntimeClient } from 'testcontainers';
import { harnessTimeouts } from '../config.js';
import { dockerStatus } from '../docker.js';
import { createLogger } from '../log.js';
import { errorMessage } from '../probes.js';
import { CLUSTER_RUN_ID, startCluster, stopCluster } from '../cluster/cluster.js';
import type { ServiceImages } from '../cluster/images.js';
import { ensureServiceImages, serviceImageNames } from '../cluster/images.js';

const HELP = `Usage: npm run stack:up -- [--port PORT] [--detach] [--no-build]

Starts the distributed system in containers from the local images: Kafka, Cassandra, S3 (S3Proxy), Redis,
\`collab migrate --mode distributed\`, two command-service instances behind an HAProxy load balancer, the
projection-service and the snapshot-service; prints the editor's URL.

  --port PORT   the load balancer's port on 127.0.0.1 (default 8080; 0 picks a free one)
  --detach      exit once ready; the containers keep running (stop them: npm run stack:down)
  --no-build    do not build images (npm run infra:images and npm run images:services build what is missing;
                without this flag stack:up runs both, which skip in a few seconds when nothing changed)
  -h, --help    this text

Without --detach it runs until Ctrl-C, then stops the services (SIGTERM: they drain and exit 0) and removes
every container and the network. Progress: JSON lines on stderr (COLLAB_INFRA_LOG=silent|error|warn|info|debug).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      detach: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number (0-65535), not ${values.port}\n\n${HELP}\n`);
    return 2;
  }
  const docker = await dockerStatus(process.env);
  if (!docker.reachable) {
    process.stderr.write(
      `No Docker engine is reachable (${docker.reason}).\nStart one (as root: bash infra/scripts/ensure-docker.sh).\n`,
    );
    return 1;
  }
  const logger = createLogger('info');
  const images = values['no-build'] ? await presentImages() : await ensureServiceImages();
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ signal }, 'stopping the cluster');
      const stopped = await stopCluster(logger);
      process.stderr.write(
        `stack stopped: ${Object.entries(stopped.exitCodes)
          .map(([name, code]) => `${name} exited ${code}`)
          .join(', ')}; removed ${stopped.removed.length} container(s)\n`,
      );
    })());
  process.once('SIGINT', () => void stop('SIGINT').finally(() => process.exit(0)));
  process.once('SIGTERM', () => void stop('SIGTERM').finally(() => process.exit(0)));

  const cluster = await startCluster({
    images,
    port,
    startupTimeoutMs: harnessTimeouts(process.env).startupMs,
    logger,
  });
  process.stdout.write(
    `# collab distributed stack (${CLUSTER_RUN_ID}): network ${cluster.network}\n` +
      `editor:        ${cluster.editorUrl}\n` +
      `read API:      ${cluster.baseUrl}/v1/docs/welcome   (Authorization: Bearer <the token above>)\n` +
      `balancer:      http://localhost:${cluster.ports.lb}  (HAProxy stats: docker exec ${cluster.containers.lb} curl -s localhost:8404/stats)\n` +
      `instances:     ${['command-1', 'command-2'].map((c) => `${c} http://127.0.0.1:${cluster.ports[c]}/v1/status`).join(', ')}\n` +
      `more tokens:   docker run --rm -e COLLAB_JWT_SECRET=${cluster.jwtSecret} ${images.cli} token --user <id>\n` +
      `stop:          ${values.detach ? 'npm run stack:down' : 'Ctrl-C here'}\n`,
  );
  if (values.detach) return 0;
  logger.info({}, 'running; Ctrl-C to stop and remove');
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
  return 0;
}

/** --no-build: the current inputs' names, each of which must exist. */
async function presentImages(): Promise<ServiceImages> {
  const images = await serviceImageNames();
  const client = await getContainerRuntimeClient();
  const missing: string[] = [];
  for (const name of Object.values(images)) {
    if (!(await client.image.exists(ImageName.fromString(name)))) missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(`images missing: ${missing.join(', ')}; build them with npm run images:services`);
  }
  return images;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack:up failed: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
