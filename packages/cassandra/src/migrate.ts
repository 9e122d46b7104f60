/**
 * Versioned CQL migrations. `migrate` creates the keyspace, then applies every migration file not yet recorded
 * in `<keyspace>.schema_migrations`, in version order, recording (version, name, checksum, applied_at) after each
 * file's last statement. Re-running applies nothing new. A recorded migration whose file changed (checksum
 * mismatch) or disappeared stops the run before anything is applied: the database and the code disagree and a
 * person must decide.
 *
 * A file is recorded only once all its statements succeeded, so a run interrupted half-way re-runs the file; the
 * statements are written IF NOT EXISTS to make that harmless. Run migrations from one place at a time (a deploy
 * step), not from every service instance on start: concurrent DDL on the same table can leave schema versions in
 * disagreement. The driver waits for schema agreement after each DDL statement.
 *
 * Side effect: the client's current keyspace becomes `keyspace` (the migration files use unqualified table names
 * so one file serves every keyspace, and driver 4.x speaks protocol v4, which has no per-query keyspace).
 */
import type { Client } from 'cassandra-driver';

import { CollabError } from '@collab/core';

import { clientContactPoints, toCollabError } from './driver-errors.js';
import type { MigrationFile } from './migration-files.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from './migration-files.js';
import type { Replication } from './replication.js';
import { checkIdentifier, replicationCql } from './replication.js';

export interface MigrateOptions {
  keyspace: string;
  replication: Replication;
  /** Defaults to this package's `migrations/` folder. */
  migrationsDir?: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export interface MigrateResult {
  /** Applied by this run, in order. */
  applied: AppliedMigration[];
  /** Already applied before this run. */
  alreadyApplied: AppliedMigration[];
}

export async function migrate(client: Client, options: MigrateOptions): Promise<MigrateResult> {
  const keyspace = checkIdentifier('keyspace', options.keyspace);
  const files = await loadMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const endpoint = clientContactPoints(client).join(',');
  const run = async (cql: string, params?: unknown[]) => {
    try {
      return await client.execute(cql, params, { prepare: params !== undefined });
    } catch (err) {
      throw toCollabError(err, 'migrate', endpoint);
    }
  };

  await run(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationCql(options.replication)}`);
  await run(`USE ${keyspace}`);
  await run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text, checksum text, applied_at timestamp)',
  );

  const recorded = new Map<number, AppliedMigration>();
  for (const row of (await run('SELECT version, name, checksum FROM schema_migrations')).rows) {
    const version = Number(row['version']);
    recorded.set(version, { version, name: String(row['name']), checksum: String(row['checksum']) });
  }
  checkRecorded(recorded, files, keyspace);

  const applied: AppliedMigration[] = [];
  for (const file of files.filter((f) => !recorded.has(f.version))) {
    for (const statement of file.statements) await run(statement);
    await run('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
      file.version,
      file.name,
      file.checksum,
      new Date(),
    ]);
    applied.push({ version: file.version, name: file.name, checksum: file.checksum });
  }
  const alreadyApplied = [...recorded.values()].sort((a, b) => a.version - b.version);
  return { applied, alreadyApplied };
}

/** Every recorded migration must still exist with the same bytes; all problems are reported at once. */
function checkRecorded(recorded: Map<number, AppliedMigration>, files: MigrationFile[], keyspace: string): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const problems: string[] = [];
  for (const done of recorded.values()) {
    const file = byVersion.get(done.version);
    if (file === undefined) {
      problems.push(`${done.name} (version ${done.version}) is applied but its file is missing`);
    } else if (file.checksum !== done.checksum) {
      problems.push(
        `${file.name} changed after it was applied (checksum mismatch: applied ${done.checksum.slice(0, 12)}, ` +
          `file ${file.checksum.slice(0, 12)}); put the change in a new migration`,
      );
    }
  }
  if (problems.length > 0) {
    throw new CollabError('ERR_CORRUPT', `Migrations of keyspace ${keyspace} disagree: ${problems.join('; ')}`, {
      retriable: false,
    });
  }
}
