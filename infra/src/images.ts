/**
 * Image names per stack source. Local names come from `infra/images/build.sh --print`, the same content-hash
 * computation the build uses, so the harness can never start a stale image: if an input changed, the name
 * changed, and the image is reported missing until `npm run infra:images` builds it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ContainerRuntimeClient } from 'testcontainers';
import { ImageName } from 'testcontainers';
import type { Service } from './probes.js';

export type StackImages = Record<Service, string>;

// The package's folder: this module runs as src/*.ts (tsx) or as the build's dist/src/*.js (plain node).
const PACKAGE_ROOT = new URL(import.meta.url.includes('/dist/src/') ? '../../' : '../', import.meta.url);

export const BUILD_SCRIPT = fileURLToPath(new URL('images/build.sh', PACKAGE_ROOT));

/** The build.sh --print key for each service. */
const LOCAL_KEYS: Record<Service, string> = {
  kafka: 'KAFKA_IMAGE',
  cassandra: 'CASSANDRA_IMAGE',
  s3: 'S3PROXY_IMAGE',
  redis: 'REDIS_IMAGE',
  schemaRegistry: 'SCHEMA_REGISTRY_IMAGE',
};

/**
 * The official images for machines with a registry. Not pullable on our CI (no registry), so these names are
 * unverified there; each can be overridden (e.g. COLLAB_PUBLIC_KAFKA_IMAGE=apache/kafka:3.9.1).
 */
const PUBLIC_DEFAULTS: StackImages = {
  kafka: 'apache/kafka:3.9.1',
  cassandra: 'cassandra:5.0',
  s3: 'minio/minio:RELEASE.2025-04-22T22-12-26Z',
  redis: 'redis:7',
  // Apicurio's in-memory image; its Confluent-compatible API is also at /apis/ccompat/v6 (unverified here).
  schemaRegistry: 'apicurio/apicurio-registry-mem:2.6.13.Final',
};

export function publicImages(env: NodeJS.ProcessEnv): StackImages {
  const pick = (service: Service, key: string = service.toUpperCase()): string =>
    env[`COLLAB_PUBLIC_${key}_IMAGE`] || PUBLIC_DEFAULTS[service];
  return {
    kafka: pick('kafka'),
    cassandra: pick('cassandra'),
    s3: pick('s3'),
    redis: pick('redis'),
    schemaRegistry: pick('schemaRegistry', 'SCHEMA_REGISTRY'),
  };
}

/** Parses `KEY=value` lines. */
export function parseImageLines(stdout: string): StackImages {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const get = (service: Service): string => {
    const value = values.get(LOCAL_KEYS[service]);
    if (value === undefined || value === '') {
      throw new Error(`${BUILD_SCRIPT} --print did not print ${LOCAL_KEYS[service]}`);
    }
    return value;
  };
  return {
    kafka: get('kafka'),
    cassandra: get('cassandra'),
    s3: get('s3'),
    redis: get('redis'),
    schemaRegistry: get('schemaRegistry'),
  };
}

export async function localImages(): Promise<StackImages> {
  const { stdout } = await promisify(execFile)('bash', [BUILD_SCRIPT, '--print'], { timeout: 30_000 });
  return parseImageLines(stdout);
}

/** Throws naming every missing image and the command that builds them; never lets Docker try to pull. */
export async function assertLocalImagesPresent(client: ContainerRuntimeClient, images: StackImages): Promise<void> {
  const entries = Object.entries(images) as Array<[Service, string]>;
  const present = await Promise.all(entries.map(([, name]) => client.image.exists(ImageName.fromString(name))));
  const missing = entries.filter((_, i) => !present[i]);
  if (missing.length > 0) {
    throw new Error(
      `Local images missing: ${missing.map(([s, name]) => `${name} (${s}, ${LOCAL_KEYS[s]})`).join(', ')}.\n` +
        `Build them with: npm run infra:images   (or COLLAB_STACK=public / the endpoint variables, see docs/testing.md)`,
    );
  }
}
