/**
 * npm run stack:down
 *
 * Stops the local cluster of `npm run stack:up -- --detach`: SIGTERM to the load balancer and the services
 * (each drains and exits; their exit codes are printed), then removes every container and the network of the
 * cluster (storage included: nothing is kept).
 */
import { dockerStatus } from '../docker.js';
import { createLogger } from '../log.js';
import { errorMessage } from '../probes.js';
import { stopCluster } from '../cluster/cluster.js';

async function main(): Promise<number> {
  if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
    process.stdout.write('Usage: npm run stack:down\n\nStops (SIGTERM) and removes the cluster of npm run stack:up.\n');
    return 0;
  }
  const docker = await dockerStatus(process.env);
  if (!docker.reachable) {
    process.stderr.write(`No Docker engine is reachable (${docker.reason}): nothing to stop.\n`);
    return 1;
  }
  const stopped = await stopCluster(createLogger('warn'));
  const codes = Object.entries(stopped.exitCodes).map(([name, code]) => `${name} exited ${code}`);
  process.stdout.write(
    `stack:down: ${codes.length > 0 ? `${codes.join(', ')}; ` : ''}removed ${stopped.removed.length} container(s)\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack:down failed: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
