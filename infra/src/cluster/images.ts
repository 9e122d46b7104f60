/**
 * The service images' names, from `infra/images/services/build.sh` (content-hash tags, like the infra images):
 * built when missing (`ensureServiceImages`, which also builds the infra images) or only named (`--print`).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BUILD_SCRIPT } from '../images.js';

export interface ServiceImages {
  commandService: string;
  projectionService: string;
  snapshotService: string;
  cli: string;
  lb: string;
}

export const SERVICES_BUILD_SCRIPT = join(dirname(BUILD_SCRIPT), 'services', 'build.sh');

const KEYS: Record<keyof ServiceImages, string> = {
  commandService: 'COMMAND_SERVICE_IMAGE',
  projectionService: 'PROJECTION_SERVICE_IMAGE',
  snapshotService: 'SNAPSHOT_SERVICE_IMAGE',
  cli: 'CLI_IMAGE',
  lb: 'LB_IMAGE',
};

/** Parses the `KEY=value` lines of services/build.sh. */
export function parseServiceImageLines(stdout: string): ServiceImages {
  const values = new Map(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()] as const),
  );
  const get = (key: keyof ServiceImages): string => {
    const value = values.get(KEYS[key]);
    if (value === undefined || value === '') throw new Error(`${SERVICES_BUILD_SCRIPT} did not print ${KEYS[key]}`);
    return value;
  };
  return {
    commandService: get('commandService'),
    projectionService: get('projectionService'),
    snapshotService: get('snapshotService'),
    cli: get('cli'),
    lb: get('lb'),
  };
}

const run = promisify(execFile);

/**
 * Builds what is missing (both scripts skip images whose tag exists; the services script runs `npm run build`
 * first), progress on this process's stderr, and returns the names.
 */
export async function ensureServiceImages(): Promise<ServiceImages> {
  const build = async (script: string): Promise<string> => {
    const child = run('bash', [script], { timeout: 30 * 60_000, maxBuffer: 16 << 20 });
    child.child.stderr?.pipe(process.stderr);
    return (await child).stdout;
  };
  await build(BUILD_SCRIPT);
  return parseServiceImageLines(await build(SERVICES_BUILD_SCRIPT));
}

/** The names of the current inputs, without building (the images may be missing). */
export async function serviceImageNames(): Promise<ServiceImages> {
  const { stdout } = await run('bash', [SERVICES_BUILD_SCRIPT, '--print'], { timeout: 60_000 });
  return parseServiceImageLines(stdout);
}
