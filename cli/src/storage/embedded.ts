/**
 * The embedded data folder as the operating commands see it: the same SQLite file `collab serve` uses (they may
 * run beside the server: WAL lets readers and the writer work at once).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createSqliteStorage, type SqliteStorage } from '@collab/adapter-sqlite';
import type { EmbeddedConfig } from '../embedded-config.js';
import { ensurePrivateDir, ensurePrivateFile } from './private-files.js';

export const DATABASE_FILE = 'collab.db';

export const databasePath = (config: EmbeddedConfig): string => join(config.dataDir, DATABASE_FILE);

/**
 * Make sure the data folder exists (0700) and the database file `path` too (0600, empty: SQLite takes an empty
 * file for a new database), before SQLite opens it. Returns a warning when the folder is open to others.
 */
export function preparePrivateDatabase(dataDir: string, path: string): string | undefined {
  const warning = ensurePrivateDir(dataDir);
  ensurePrivateFile(path);
  return warning;
}

/** Open (creating with `create`) the data folder's database; a read of a folder with no database is an error. */
export async function openEmbeddedStorage(
  config: EmbeddedConfig,
  options: { create: boolean; path?: string } = { create: false },
): Promise<SqliteStorage> {
  const path = options.path ?? databasePath(config);
  if (!options.create && !existsSync(path)) {
    throw new Error(`no database at ${path}: run \`collab serve\` or \`collab migrate\` with this --data-dir first`);
  }
  preparePrivateDatabase(config.dataDir, path);
  return createSqliteStorage({ path, partitionCount: config.partitions });
}
