/**
 * ReadModelStore on SQLite, with the Cassandra store's semantics: ops keyed by (docId, version) and written with
 * INSERT OR IGNORE (a replay changes nothing); the head moves forward only, over consecutive versions (head.ts);
 * history pages newest first with an opaque cursor (cursor.ts); a user's activity newest first. The history and
 * activity "tables" of the Cassandra model are indexes on the one ops table here (rm_ops_by_time, rm_ops_by_user):
 * SQLite can read a document by time or a user by time without denormalising.
 *
 * One writeOps call is one IMMEDIATE transaction: its ops and the heads they move are all in, or none are.
 */
import {
  checkStoredCommentEvent,
  CollabError,
  type DocHead,
  type HistoryEntry,
  type OpCommitted,
  type Page,
  type ReadModelStore,
  type StoredCommentEvent,
  type UserActivity,
} from '@collab/core';
import type { SqliteDatabase } from '../database.js';
import { guard } from '../errors.js';
import { decodeHistoryCursor, encodeHistoryCursor } from './cursor.js';
import { advanceHead, parseOp } from './head.js';
import { prepareReadModelStatements, type HeadRow, type OpRow } from './statements.js';

export interface SqliteReadModelStoreOptions {
  db: SqliteDatabase;
  endpoint: string;
  onClose?: () => void;
}

const DEFAULT_PAGE_LIMIT = 50;
const NO_LIMIT = -1;

function checkLimit(limit: number | undefined, fallback: number): number {
  const value = limit ?? fallback;
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 1)) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `limit must be a positive integer, got ${limit}`);
  }
  return value;
}

function checkOp(op: OpCommitted): void {
  if (typeof op?.docId !== 'string' || op.docId === '' || !Number.isSafeInteger(op.version) || op.version < 1) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      `an op needs a docId and a version >= 1, got ${JSON.stringify({ docId: op?.docId, version: op?.version })}`,
    );
  }
}

const toHead = (row: HeadRow): DocHead => ({
  docId: row.doc_id,
  version: row.version,
  length: row.length,
  lastUserId: row.last_user_id,
  updatedAt: row.updated_at,
});

const toOp = (row: OpRow): OpCommitted => ({
  docId: row.doc_id,
  version: row.version,
  op: parseOp(row.doc_id, row.version, row.op),
  baseVersion: row.base_version,
  clientId: row.client_id,
  seq: row.seq,
  userId: row.user_id,
  timestamp: row.ts,
});

export function createSqliteReadModelStore(options: SqliteReadModelStoreOptions): ReadModelStore {
  const { db, endpoint } = options;
  const sql = guard('prepare the read models', endpoint, () => prepareReadModelStatements(db));
  let closed: Promise<void> | undefined;

  const run = <T>(operation: string, fn: () => T): T => {
    if (closed !== undefined)
      throw new CollabError('ERR_CLOSED', `the SQLite read-model store is closed (${endpoint})`);
    return guard(operation, endpoint, fn);
  };

  const write = db.transaction((ops: readonly OpCommitted[]) => {
    for (const op of ops) {
      sql.insertOp.run(
        op.docId,
        op.version,
        JSON.stringify(op.op),
        op.baseVersion,
        op.clientId,
        op.seq,
        op.userId,
        op.timestamp,
      );
    }
    for (const docId of new Set(ops.map((o) => o.docId))) advanceHead(sql, docId);
  });

  const writeEvents = db.transaction((events: readonly StoredCommentEvent[]) => {
    for (const { offset, event } of events) {
      sql.insertCommentEvent.run(event.docId, event.version, offset, JSON.stringify(event));
    }
  });

  const head = (docId: string): DocHead | undefined => {
    const row = sql.selectHead.get(docId);
    return row === undefined ? undefined : toHead(row);
  };

  return {
    async writeOps(ops) {
      ops.forEach(checkOp);
      if (ops.length === 0) return;
      run('write ops', () => write.immediate(ops));
    },

    async getOps(docId, from, to, limit) {
      const max = checkLimit(limit, Infinity);
      return run('read ops', () => {
        // Without `to`, the head bounds the range: ops stored past a gap are not yet part of the document.
        const end = to ?? (head(docId)?.version ?? 0) + 1;
        return sql.selectOps.all(docId, from, end, max === Infinity ? NO_LIMIT : max).map(toOp);
      });
    },

    async getHead(docId) {
      return run('read head', () => head(docId));
    },

    async versionAt(docId, time) {
      if (!Number.isFinite(time)) throw new CollabError('ERR_INVALID_ARGUMENT', `time must be a number, got ${time}`);
      return run('version at', () => sql.selectVersionAt.get(docId, time)?.version ?? 0);
    },

    async history(docId, historyOptions = {}): Promise<Page<HistoryEntry>> {
      const limit = checkLimit(historyOptions.limit, DEFAULT_PAGE_LIMIT);
      const cursor = historyOptions.cursor;
      const below = cursor === undefined ? undefined : decodeHistoryCursor(cursor);
      return run('read history', () => {
        const from = below ?? (head(docId)?.version ?? 0) + 1;
        // One row more than asked tells whether there is a next page, so the last page is never empty.
        const rows = sql.selectHistory.all(docId, from, limit === Infinity ? NO_LIMIT : limit + 1);
        const items = rows.map((r) => ({
          version: r.version,
          userId: r.user_id,
          clientId: r.client_id,
          timestamp: r.ts,
        }));
        if (items.length <= limit) return { items };
        const page = items.slice(0, limit);
        return { items: page, next: encodeHistoryCursor(page[page.length - 1]!.version) };
      });
    },

    async userActivity(userId, activityOptions = {}): Promise<UserActivity[]> {
      const limit = checkLimit(activityOptions.limit, DEFAULT_PAGE_LIMIT);
      return run('read user activity', () =>
        sql.selectUserActivity
          .all(userId, limit === Infinity ? NO_LIMIT : limit)
          .map((r) => ({ userId: r.user_id, docId: r.doc_id, version: r.version, timestamp: r.ts })),
      );
    },

    async writeCommentEvents(events) {
      events.forEach(checkStoredCommentEvent);
      if (events.length === 0) return;
      run('write comment events', () => writeEvents.immediate(events));
    },

    async getCommentEvents(docId, fromVersion = 0, toVersion = Number.MAX_SAFE_INTEGER) {
      return run('read comment events', () =>
        sql.selectCommentEvents.all(docId, fromVersion, toVersion).map((row) => ({
          offset: BigInt(row.log_offset),
          event: JSON.parse(row.event) as StoredCommentEvent['event'],
        })),
      );
    },

    close() {
      closed ??= (async () => options.onClose?.())();
      return closed;
    },
  };
}
