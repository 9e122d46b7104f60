/**
 * Every CQL statement the store runs, fully qualified with the keyspace (so a shared client with any current
 * keyspace works). All run as prepared statements. Table design: README.md and migrations/0001_read_models.cql.
 */
export function statements(keyspace: string) {
  const t = (table: string): string => `${keyspace}.${table}`;
  return {
    insertOp:
      `INSERT INTO ${t('ops')} (doc_id, bucket, version, op, base_version, client_id, seq, user_id, ts) ` +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    insertVersionByTime: `INSERT INTO ${t('versions_by_time')} (doc_id, day, ts, version) VALUES (?, ?, ?, ?)`,
    insertDocDay: `INSERT INTO ${t('doc_days')} (doc_id, day) VALUES (?, ?)`,
    insertUserActivity: `INSERT INTO ${t('user_activity')} (user_id, day, ts, doc_id, version) VALUES (?, ?, ?, ?, ?)`,
    insertUserDay: `INSERT INTO ${t('user_days')} (user_id, day) VALUES (?, ?)`,

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

    selectVersionAtInDay: `SELECT version FROM ${t('versions_by_time')} WHERE doc_id = ? AND day = ? AND ts <= ? LIMIT 1`,
    selectDocDayBefore: `SELECT day FROM ${t('doc_days')} WHERE doc_id = ? AND day < ? LIMIT 1`,

    selectUserDays: `SELECT day FROM ${t('user_days')} WHERE user_id = ? AND day < ? LIMIT ?`,
    selectUserActivity: `SELECT ts, doc_id, version FROM ${t('user_activity')} WHERE user_id = ? AND day = ? LIMIT ?`,
  };
}

export type Statements = ReturnType<typeof statements>;
