/**
 * npm run infra:down [-- --run <id>]
 *
 * Removes every container and network carrying the harness label (collab.harness), or only one run's: the
 * leftovers of a detached `infra:up`, or of a test run that was killed before its cleanup ran. Never touches
 * anything without the label (e.g. the shared dev stack).
 */
import { parseArgs } from 'node:util';
import { removeHarnessResources } from '../cleanup.js';
import { dockerStatus } from '../docker.js';

const HELP = `Usage: npm run infra:down -- [--run ID]

Removes (force) every container and network labelled collab.harness by the test harness or infra:up.
  --run ID     only those of one run (the id printed by infra:up and in container names collab-it-<id>-*)
  -h, --help   this text`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { run: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const docker = await dockerStatus();
  if (!docker.reachable) {
    process.stderr.write(`No Docker engine is reachable (${docker.reason}): nothing to remove.\n`);
    return 1;
  }
  const removed = await removeHarnessResources(values.run);
  const what = values.run === undefined ? 'harness' : `run ${values.run}`;
  process.stdout.write(
    `infra:down (${what}): removed ${removed.containers.length} container(s)` +
      `${removed.containers.length > 0 ? ` [${removed.containers.join(', ')}]` : ''} and ` +
      `${removed.networks.length} network(s)${removed.networks.length > 0 ? ` [${removed.networks.join(', ')}]` : ''}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`infra:down failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
