/**
 * The op log's SQL, prepared once per storage. Offsets are bound as bigints and read back as numbers (exact up to
 * 2^53, far beyond any embedded log) then turned into bigints by the callers.
 */
import { prepare, type SqliteDatabase } from '../database.js';

export function prepareLogStatements(db: SqliteDatabase) {
  return {
    readConfig: prepare<[string], { value: string }>(db, 'SELECT value FROM log_config WHERE key = ?'),
    writeConfig: prepare<[string, string]>(db, 'INSERT INTO log_config (key, value) VALUES (?, ?)'),
    addPartition: prepare<[number]>(db, 'INSERT OR IGNORE INTO log_partitions (partition_id) VALUES (?)'),
    /** Fences every earlier writer: their epoch no longer matches the row. */
    bumpEpoch: prepare<[number], { writer_epoch: number }>(
      db,
      'UPDATE log_partitions SET writer_epoch = writer_epoch + 1 WHERE partition_id = ? RETURNING writer_epoch',
    ),
    /**
     * The fencing check and the offset reservation in one statement: no row comes back when a newer writer has
     * bumped the epoch. Runs inside the append's transaction, so the check holds until the records are in.
     */
    reserveOffsets: prepare<[bigint, number, number], { next_offset: number }>(
      db,
      `UPDATE log_partitions SET next_offset = next_offset + ?
       WHERE partition_id = ? AND writer_epoch = ? RETURNING next_offset`,
    ),
    insertRecord: prepare<[number, bigint, string, number, string, string]>(
      db,
      `INSERT INTO log_records (partition_id, record_offset, doc_id, version, value, headers)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    endOffsets: prepare<[], { partition_id: number; next_offset: number }>(
      db,
      'SELECT partition_id, next_offset FROM log_partitions ORDER BY partition_id',
    ),
    endOffset: prepare<[number], { next_offset: number }>(
      db,
      'SELECT next_offset FROM log_partitions WHERE partition_id = ?',
    ),
    /**
     * The first offset of each partition whose record was committed at or after a time. The log has no index by
     * time, so this is one pass over the records in SQL (no row leaves SQLite): fine for an embedded log.
     */
    firstOffsetsAtOrAfter: prepare<[number], { partition_id: number; first_offset: number }>(
      db,
      `SELECT partition_id, MIN(record_offset) AS first_offset FROM log_records
       WHERE json_extract(value, '$.timestamp') >= ? GROUP BY partition_id`,
    ),
    readRange: prepare<
      [number, bigint, bigint, number],
      { partition_id: number; record_offset: number; value: string; headers: string }
    >(
      db,
      `SELECT partition_id, record_offset, value, headers FROM log_records
       WHERE partition_id = ? AND record_offset >= ? AND record_offset < ?
       ORDER BY record_offset LIMIT ?`,
    ),
    committedOffsets: prepare<[string], { partition_id: number; next_offset: number }>(
      db,
      'SELECT partition_id, next_offset FROM log_group_offsets WHERE group_id = ?',
    ),
    commitOffset: prepare<[string, number, bigint, number]>(
      db,
      `INSERT INTO log_group_offsets (group_id, partition_id, next_offset, committed_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, partition_id) DO UPDATE SET
         next_offset = excluded.next_offset, committed_at = excluded.committed_at`,
    ),
  };
}

export type LogStatements = ReturnType<typeof prepareLogStatements>;
