/**
 * Embedded or distributed: `--mode` wins over COLLAB_MODE; the default is embedded (one process, SQLite).
 */
export type Mode = 'embedded' | 'distributed';

export const MODE_HELP = 'embedded (SQLite in --data-dir) or distributed (Kafka, Cassandra, S3); env COLLAB_MODE';

/** The mode, or a problem to list with the others. */
export function resolveMode(env: NodeJS.ProcessEnv, flag: string | undefined): { mode: Mode } | { problem: string } {
  const raw = flag ?? env.COLLAB_MODE ?? 'embedded';
  if (raw === 'embedded' || raw === 'distributed') return { mode: raw };
  const source = flag === undefined ? 'COLLAB_MODE' : '--mode';
  return { problem: `${source}: must be embedded or distributed, got ${JSON.stringify(raw)}` };
}
