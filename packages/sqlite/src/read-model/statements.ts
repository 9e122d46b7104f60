/**
 * The read models' SQL, prepared once per storage. LIMIT -1 is SQLite's "no limit". Log offsets are bound as
 * bigints and read back as numbers (exact up to 2^53, as in the op log's statements).
 */
import { prepare, type SqliteDatabase } from '../database.js';

export interface OpRow {
  doc_id: string;
  version: number;
  op: string;
  base_version: number;
  client_id: string;
  seq: number;
  user_id: string;
  ts: number;
}

export interface HeadRow {
  doc_id: string;
  version: number;
  length: number;
  last_user_id: string;
  updated_at: number;
}

export function prepareReadModelStatements(db: SqliteDatabase) {
  return {
    /** Idempotent by (doc_id, version): a replayed op changes nothing, not even its timestamp. */
    insertOp: prepare<[string, number, string, number, string, number, string, number]>(
      db,
      `INSERT OR IGNORE INTO rm_ops (doc_id, version, op, base_version, client_id, seq, user_id, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    selectHead: prepare<[string], HeadRow>(
      db,
      'SELECT doc_id, version, length, last_user_id, updated_at FROM rm_heads WHERE doc_id = ?',
    ),
    /** Ops past the head, in order: the head walks them while they are consecutive. */
    selectOpsAfter: prepare<[string, number], Pick<OpRow, 'version' | 'op' | 'user_id' | 'ts'>>(
      db,
      'SELECT version, op, user_id, ts FROM rm_ops WHERE doc_id = ? AND version > ? ORDER BY version',
    ),
    upsertHead: prepare<[string, number, number, string, number]>(
      db,
      `INSERT INTO rm_heads (doc_id, version, length, last_user_id, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (doc_id) DO UPDATE SET
         version = excluded.version, length = excluded.length,
         last_user_id = excluded.last_user_id, updated_at = excluded.updated_at
       WHERE excluded.version > rm_heads.version`,
    ),
    selectOps: prepare<[string, number, number, number], OpRow>(
      db,
      `SELECT doc_id, version, op, base_version, client_id, seq, user_id, ts FROM rm_ops
       WHERE doc_id = ? AND version >= ? AND version < ? ORDER BY version LIMIT ?`,
    ),
    /** The op with the latest time at or before the given one; among equal times the highest version. */
    selectVersionAt: prepare<[string, number], { version: number }>(
      db,
      'SELECT version FROM rm_ops WHERE doc_id = ? AND ts <= ? ORDER BY ts DESC, version DESC LIMIT 1',
    ),
    selectHistory: prepare<[string, number, number], Pick<OpRow, 'version' | 'user_id' | 'client_id' | 'ts'>>(
      db,
      `SELECT version, user_id, client_id, ts FROM rm_ops
       WHERE doc_id = ? AND version < ? ORDER BY version DESC LIMIT ?`,
    ),
    /** Idempotent by (doc_id, version, log_offset): a redelivered event changes nothing. */
    insertCommentEvent: prepare<[string, number, bigint, string]>(
      db,
      'INSERT OR IGNORE INTO rm_comment_events (doc_id, version, log_offset, event) VALUES (?, ?, ?, ?)',
    ),
    selectCommentEvents: prepare<[string, number, number], { log_offset: number; event: string }>(
      db,
      `SELECT log_offset, event FROM rm_comment_events
       WHERE doc_id = ? AND version >= ? AND version <= ? ORDER BY version, log_offset`,
    ),
    selectUserActivity: prepare<[string, number], Pick<OpRow, 'user_id' | 'doc_id' | 'version' | 'ts'>>(
      db,
      `SELECT user_id, doc_id, version, ts FROM rm_ops
       WHERE user_id = ? ORDER BY ts DESC, doc_id DESC, version DESC LIMIT ?`,
    ),
  };
}

export type ReadModelStatements = ReturnType<typeof prepareReadModelStatements>;
