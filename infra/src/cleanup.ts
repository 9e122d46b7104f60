/**
 * Removing what the harness started, found by label rather than by in-memory handles: that also covers
 * containers whose start was still in flight, and the leftovers of a run that was killed (`npm run infra:down`).
 * Only containers and networks carrying LABEL_HARNESS are ever touched (never the shared dev stack).
 */
import { getContainerRuntimeClient } from 'testcontainers';
import { LABEL_HARNESS, LABEL_RUN } from './containers.js';

export interface Removed {
  containers: string[];
  networks: string[];
}

/** Removes (force) every harness container and network, or only those of one run. */
export function removeHarnessResources(runId?: string): Promise<Removed> {
  return removeLabelled(runId === undefined ? LABEL_HARNESS : `${LABEL_RUN}=${runId}`);
}

/** Removes (force) the containers, then the networks, that carry `label` (`name` or `name=value`). */
export async function removeLabelled(labelFilter: string): Promise<Removed> {
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const label = [labelFilter];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err: { statusCode?: number }) => {
          // 404: already gone; 409: removal already in progress (a concurrent cleanup).
          if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
        }),
    ),
  );
  // Networks after containers: Docker refuses to remove a network that still has endpoints.
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw err;
        }),
    ),
  );
  return {
    containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')),
    networks: networks.map((n) => n.Name),
  };
}
