/**
 * A private, throwaway PostgreSQL for ShareDB's durable backend (sharedb-postgres): Debian's PostgreSQL binaries
 * (initdb, pg_ctl on the PATH or under /usr/lib/postgresql), a cluster in a temporary folder, on 127.0.0.1 and a
 * free port, removed afterwards. As root, the server runs as the `postgres` user (it refuses root).
 *
 * synchronous_commit=off: a commit is written to the OS, not fsynced, before it is acknowledged — the same
 * promise our single-broker Kafka makes with acks=all (it acknowledges from the page cache, and relies on
 * replication, not fsync, for durability). With fsync per commit ShareDB would measure the disk instead.
 */
import { execFile } from 'node:child_process';
import { freePort } from '@collab/infra';
import { readFileSync, chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type } from '@collab/ot-text';
import pg from 'pg';
import PostgresDB from 'sharedb-postgres';
import type { ShareDbBackend } from './sharedb.js';

const exec = promisify(execFile);

export async function startPostgres(): Promise<ShareDbBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o755);
    const { stdout } = await exec('id', ['-u', 'postgres']);
    const { stdout: gid } = await exec('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const run = (cmd: string, args: string[]) =>
    asRoot ? exec('runuser', ['-u', 'postgres', '--', cmd, ...args]) : exec(cmd, args);
  const port = await freePort();
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  await run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-h 127.0.0.1 -p ${port} -k ${dir} -c synchronous_commit=off -c max_connections=200`,
    'start',
  ]);
  const connectionString = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString });
  await client.connect();
  const require = createRequire(import.meta.url);
  const schema = readFileSync(join(dirname(require.resolve('sharedb-postgres')), 'structure.sql'), 'utf8');
  await client.query(schema);
  await client.end();
  const db = new PostgresDB({ connectionString, max: 20 });
  // sharedb-postgres reads a snapshot's data as `row.data || undefined`, which turns an empty text document
  // ('') into "no data"; every document starts empty here, so give the empty string back.
  const fixEmpty = (snapshot: { type?: string; data?: unknown } | undefined) => {
    if (snapshot?.type === type.uri && snapshot.data === undefined) snapshot.data = '';
  };
  const getSnapshot = db.getSnapshot.bind(db);
  db.getSnapshot = (...args: unknown[]) => {
    const callback = args.pop() as (err: unknown, snapshot?: { type?: string; data?: unknown }) => void;
    return getSnapshot(...args, (err: unknown, snapshot?: { type?: string; data?: unknown }) => {
      fixEmpty(snapshot);
      callback(err, snapshot);
    });
  };
  const getSnapshotBulk = db.getSnapshotBulk.bind(db);
  db.getSnapshotBulk = (...args: unknown[]) => {
    const callback = args.pop() as (
      err: unknown,
      snapshots?: Record<string, { type?: string; data?: unknown }>,
    ) => void;
    return getSnapshotBulk(...args, (err: unknown, snapshots?: Record<string, { type?: string; data?: unknown }>) => {
      for (const snapshot of Object.values(snapshots ?? {})) fixEmpty(snapshot);
      callback(err, snapshots);
    });
  };
  // pg_ctl daemonizes the postmaster: its pid (the first line of postmaster.pid) heads the backends' tree.
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    helpers: [{ name: 'postgres', pid: postmaster }],
    description: `sharedb-postgres on PostgreSQL (private cluster, synchronous_commit=off)`,
    db,
    async close() {
      await new Promise((resolve) => db.close(resolve));
      await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
