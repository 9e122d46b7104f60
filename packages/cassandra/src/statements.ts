/**
 * Every CQL statement the store runs, fully qualified with the keyspace (so a shared client with any current
 * keyspace works). All run as prepared statements. Table design: README.md and migrations/ (0001, 0002).
 */
export function statements(keyspace: string) {
  const t = (table: string): string => `${keyspace}.${table}`;
  return {
    insertOp:
      `INSERT INTO ${t('ops')} (doc_id, bucket, version, op, base_version, client_id, seq, user_id, ts) ` +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    // Migration 0002: the index rows of a document's bucket share one partition (README.md).
    insertVersionTime: `INSERT INTO ${t('version_times')} (doc_id, bucket, ts, version) VALUES (?, ?, ?, ?)`,
    // The cell keeps the newest edit time whatever the write order: its write timestamp is that time (µs).
    insertUserDocBucket:
      `INSERT INTO ${t('user_doc_buckets')} (user_id, doc_id, bucket, last_ts) VALUES (?, ?, ?, ?) ` +
      'USING TIMESTAMP ?',

    selectHead: `SELECT version, length, last_user_id, updated_at FROM ${t('doc_heads')} WHERE doc_id = ?`,
    insertHead:
      `INSERT INTO ${t('doc_heads')} (doc_id, version, length, last_user_id, updated_at) VALUES (?, ?, ?, ?, ?) ` +
      'IF NOT EXISTS',
    moveHead:
      `UPDATE ${t('doc_heads')} SET version = ?, length = ?, last_user_id = ?, updated_at = ? ` +
      'WHERE doc_id = ? IF version = ?',
    // headMode 'rebuild' only (a fresh keyspace with one writer, see rebuild-heads.ts): a plain write whose cell
    // timestamp is the version, so an older head can never overwrite a newer one.
    writeHeadUsingVersion:
      `INSERT INTO ${t('doc_heads')} (doc_id, version, length, last_user_id, updated_at) VALUES (?, ?, ?, ?, ?) ` +
      'USING TIMESTAMP ?',

    selectOps:
      'SELECT version, op, base_version, client_id, seq, user_id, ts ' +
      `FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? AND version >= ? AND version < ? LIMIT ?`,
    selectOpsFrom:
      'SELECT version, op, user_id, ts ' + `FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? AND version >= ? LIMIT ?`,
    selectHistory:
      'SELECT version, user_id, client_id, ts ' +
      `FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? AND version < ? ORDER BY version DESC LIMIT ?`,

    selectVersionTimeAt: `SELECT version FROM ${t('version_times')} WHERE doc_id = ? AND bucket = ? AND ts <= ? LIMIT 1`,
    selectAnyVersionTime: `SELECT version FROM ${t('version_times')} WHERE doc_id = ? AND bucket = ? LIMIT 1`,
    selectUserDocBuckets: `SELECT doc_id, bucket, last_ts FROM ${t('user_doc_buckets')} WHERE user_id = ?`,
    // A bucket's ops newest first, only what userActivity needs (it keeps the given user's).
    selectOpUsersDesc: `SELECT version, user_id, ts FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? ORDER BY version DESC`,

    // The 0001 tables, read only for rows written before migration 0002.
    selectAnyDocDay: `SELECT day FROM ${t('doc_days')} WHERE doc_id = ? LIMIT 1`,
    selectAnyUserDay: `SELECT day FROM ${t('user_days')} WHERE user_id = ? LIMIT 1`,
    selectVersionAtInDay: `SELECT version FROM ${t('versions_by_time')} WHERE doc_id = ? AND day = ? AND ts <= ? LIMIT 1`,
    selectDocDayBefore: `SELECT day FROM ${t('doc_days')} WHERE doc_id = ? AND day < ? LIMIT 1`,

    selectUserDays: `SELECT day FROM ${t('user_days')} WHERE user_id = ? AND day < ? LIMIT ?`,
    selectUserActivity: `SELECT ts, doc_id, version FROM ${t('user_activity')} WHERE user_id = ? AND day = ? LIMIT ?`,
  };
}

export type Statements = ReturnType<typeof statements>;
