/**
 * A one-shot container on the cluster's network (`collab migrate`, `collab token`): created, started, waited
 * for within a bound, its output collected, removed.
 */
import { getContainerRuntimeClient } from 'testcontainers';
import { withTimeout } from '../probes.js';

export interface JobOptions {
  image: string;
  name: string;
  network: string;
  labels: Record<string, string>;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

export interface JobResult {
  exitCode: number;
  /** stdout and stderr, interleaved as Docker recorded them. */
  output: string;
}

export async function runJob(options: JobOptions): Promise<JobResult> {
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const container = await docker.createContainer({
    name: options.name,
    Image: options.image,
    Cmd: options.args,
    Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    Labels: options.labels,
    HostConfig: { NetworkMode: options.network },
  });
  try {
    await container.start();
    const result = (await withTimeout(
      container.wait(),
      options.timeoutMs,
      `${options.name} (${options.args.join(' ')})`,
    )) as { StatusCode: number };
    // Without a TTY Docker multiplexes both streams with 8-byte frame headers; strip them.
    const raw = await container.logs({ stdout: true, stderr: true, follow: false });
    return { exitCode: result.StatusCode, output: demultiplex(raw) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
