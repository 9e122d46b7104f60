/**
 * Configuration of the embedded mode (`collab serve` with no servers): environment variables, overridden by
 * flags, validated at once — every problem listed — and printable with secrets redacted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

const EmbeddedEnv = z.object({
  COLLAB_HOST: z.string().min(1).default('127.0.0.1'),
  COLLAB_PORT: port.default(8080),
  COLLAB_DATA_DIR: z.string().min(1).default('./data'),
  COLLAB_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Tokens must expire within this many seconds (the development tokens of `collab token` default to 12 h).
  COLLAB_JWT_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(86_400),
  COLLAB_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(8),
  COLLAB_SNAPSHOT_EVERY: z.coerce.number().int().min(1).default(500),
  COLLAB_DEV_TOKENS: z.enum(['true', 'false']).default('true'),
  // What one client may cost: the same variables and defaults as the distributed command-service.
  COLLAB_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  COLLAB_MAX_OP_INSERT: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024),
  COLLAB_MAX_DOC_LENGTH: z.coerce
    .number()
    .int()
    .min(1)
    .default(16 * 1024 * 1024),
  COLLAB_MAX_CATCHUP_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  COLLAB_OPENS_PER_SECOND: z.coerce.number().int().min(1).default(10),
  COLLAB_READS_PER_SECOND: z.coerce.number().int().min(1).default(20),
  COLLAB_READ_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  COLLAB_READ_QUEUE: z.coerce.number().int().min(0).default(64),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface EmbeddedConfig {
  host: string;
  port: number;
  dataDir: string;
  jwtSecret: string;
  /** Where the secret came from: given, or generated once and kept in the data folder. */
  jwtSecretSource: 'environment' | 'data-dir';
  /** Tokens valid for longer are refused; every token must expire. */
  jwtMaxLifetimeSeconds: number;
  partitions: number;
  snapshotEvery: number;
  /** Serve POST /v1/dev/token (anyone who can reach the port gets a token): for local use. */
  devTokens: boolean;
  /** Per-client limits that bound what a request may cost (docs/operations.md, "Limits"). */
  limits: {
    maxFrameBytes: number;
    maxOpInsertLength: number;
    maxDocumentLength: number;
    maxCatchupBytes: number;
    opensPerSecond: number;
  };
  /** The HTTP read API: requests per second per principal, replays at once, replays waiting. */
  readApi: { readsPerSecond: number; concurrentReads: number; queuedReads: number };
  logLevel: string;
}

export class ConfigProblems extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function loadEmbeddedConfig(
  env: NodeJS.ProcessEnv,
  flags: Partial<Record<'host' | 'port' | 'dataDir', string>>,
): EmbeddedConfig {
  const merged = {
    ...env,
    ...(flags.host === undefined ? {} : { COLLAB_HOST: flags.host }),
    ...(flags.port === undefined ? {} : { COLLAB_PORT: flags.port }),
    ...(flags.dataDir === undefined ? {} : { COLLAB_DATA_DIR: flags.dataDir }),
  };
  const parsed = EmbeddedEnv.safeParse(merged);
  if (!parsed.success) throw new ConfigProblems(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const dataDir = resolve(e.COLLAB_DATA_DIR);
  let secret = e.COLLAB_JWT_SECRET;
  let source: EmbeddedConfig['jwtSecretSource'] = 'environment';
  if (secret === undefined) {
    // A secret generated once and kept beside the data, so tokens survive restarts without any setup.
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'jwt-secret');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    secret = readFileSync(file, 'utf8').trim();
    source = 'data-dir';
  }
  return {
    host: e.COLLAB_HOST,
    port: e.COLLAB_PORT,
    dataDir,
    jwtSecret: secret,
    jwtSecretSource: source,
    jwtMaxLifetimeSeconds: e.COLLAB_JWT_MAX_LIFETIME_SECONDS,
    partitions: e.COLLAB_PARTITIONS,
    snapshotEvery: e.COLLAB_SNAPSHOT_EVERY,
    devTokens: e.COLLAB_DEV_TOKENS === 'true',
    limits: {
      maxFrameBytes: e.COLLAB_MAX_FRAME_BYTES,
      maxOpInsertLength: e.COLLAB_MAX_OP_INSERT,
      maxDocumentLength: e.COLLAB_MAX_DOC_LENGTH,
      maxCatchupBytes: e.COLLAB_MAX_CATCHUP_BYTES,
      opensPerSecond: e.COLLAB_OPENS_PER_SECOND,
    },
    readApi: {
      readsPerSecond: e.COLLAB_READS_PER_SECOND,
      concurrentReads: e.COLLAB_READ_CONCURRENCY,
      queuedReads: e.COLLAB_READ_QUEUE,
    },
    logLevel: e.LOG_LEVEL,
  };
}

export const redactEmbedded = (c: EmbeddedConfig): Record<string, unknown> => ({ ...c, jwtSecret: '[redacted]' });
