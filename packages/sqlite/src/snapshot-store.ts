/**
 * SnapshotStore on SQLite. put() is INSERT OR IGNORE on the (doc_id, version) key: the first writer wins and
 * every later put of the same key answers 'exists' without touching it, which is the S3 store's conditional write
 * (If-None-Match) in one statement. Each row carries the SHA-256 and the byte size of its UTF-8 text, checked on
 * every read: a row damaged on disk or edited by hand is ERR_CORRUPT, never a wrong document.
 */
import { createHash } from 'node:crypto';
import { CollabError, type SnapshotData, type SnapshotMeta, type SnapshotStore } from '@collab/core';
import type { SqliteDatabase } from './database.js';
import { guard } from './errors.js';

export interface SqliteSnapshotStoreOptions {
  db: SqliteDatabase;
  endpoint: string;
  onClose?: () => void;
}

interface SnapshotRow {
  doc_id: string;
  version: number;
  text: string;
  created_at: number;
  size: number;
  sha256: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function checkKey(docId: string, version: number): void {
  if (typeof docId !== 'string' || docId === '' || !Number.isSafeInteger(version) || version < 0) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      `a snapshot needs a docId and a version >= 0, got ${JSON.stringify({ docId, version })}`,
    );
  }
}

function verified(row: SnapshotRow): SnapshotData {
  const bytes = Buffer.from(row.text, 'utf8');
  const corrupt = (why: string) =>
    new CollabError('ERR_CORRUPT', `snapshot ${row.doc_id}@${row.version} is corrupt: ${why}`, { retriable: false });
  if (bytes.length !== row.size) throw corrupt(`${bytes.length} bytes, ${row.size} recorded`);
  if (sha256(bytes) !== row.sha256) throw corrupt('SHA-256 checksum mismatch');
  return { docId: row.doc_id, version: row.version, text: row.text, createdAt: row.created_at };
}

export function createSqliteSnapshotStore(options: SqliteSnapshotStoreOptions): SnapshotStore {
  const { db, endpoint } = options;
  const sql = guard('prepare the snapshot store', endpoint, () => ({
    insert: db.prepare<[string, number, string, number, number, string]>(
      `INSERT OR IGNORE INTO snapshots (doc_id, version, text, created_at, size, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare<[string, number], SnapshotRow>(
      'SELECT doc_id, version, text, created_at, size, sha256 FROM snapshots WHERE doc_id = ? AND version = ?',
    ),
    latest: db.prepare<[string, number], SnapshotRow>(
      `SELECT doc_id, version, text, created_at, size, sha256 FROM snapshots
       WHERE doc_id = ? AND version <= ? ORDER BY version DESC LIMIT 1`,
    ),
    list: db.prepare<[string], Omit<SnapshotRow, 'text' | 'sha256'>>(
      'SELECT doc_id, version, created_at, size FROM snapshots WHERE doc_id = ? ORDER BY version',
    ),
    delete: db.prepare<[string, number]>('DELETE FROM snapshots WHERE doc_id = ? AND version = ?'),
  }));
  let closed: Promise<void> | undefined;

  const run = <T>(operation: string, fn: () => T): T => {
    if (closed !== undefined) throw new CollabError('ERR_CLOSED', `the SQLite snapshot store is closed (${endpoint})`);
    return guard(operation, endpoint, fn);
  };

  return {
    async put(snapshot) {
      checkKey(snapshot.docId, snapshot.version);
      if (typeof snapshot.text !== 'string' || !Number.isFinite(snapshot.createdAt)) {
        throw new CollabError('ERR_INVALID_ARGUMENT', 'a snapshot needs a text and a createdAt time');
      }
      const bytes = Buffer.from(snapshot.text, 'utf8');
      const { changes } = run('put a snapshot', () =>
        sql.insert.run(
          snapshot.docId,
          snapshot.version,
          snapshot.text,
          snapshot.createdAt,
          bytes.length,
          sha256(bytes),
        ),
      );
      return changes === 1 ? 'created' : 'exists';
    },

    async latest(docId, maxVersion = Number.MAX_SAFE_INTEGER) {
      const row = run('read the latest snapshot', () => sql.latest.get(docId, maxVersion));
      return row === undefined ? undefined : verified(row);
    },

    async get(docId, version) {
      const row = run('read a snapshot', () => sql.get.get(docId, version));
      return row === undefined ? undefined : verified(row);
    },

    async list(docId): Promise<SnapshotMeta[]> {
      return run('list snapshots', () =>
        sql.list
          .all(docId)
          .map((r) => ({ docId: r.doc_id, version: r.version, createdAt: r.created_at, size: r.size })),
      );
    },

    async delete(docId, version) {
      run('delete a snapshot', () => sql.delete.run(docId, version));
    },

    close() {
      closed ??= (async () => options.onClose?.())();
      return closed;
    },
  };
}
