/**
 * Every CQL statement the store runs, fully qualified with the keyspace (so a shared client with any current
 * keyspace works). All run as prepared statements. Table design: README.md and migrations/ (0001–0005).
 */
export function statements(keyspace: string) {
  const t = (table: string): string => `${keyspace}.${table}`;
  return {
    // Migration 0003: ops are added to their block's map (op-blocks.ts); the map param is version -> JSON.
    addToOpBlock: `UPDATE ${t('op_blocks')} SET ops = ops + ? WHERE doc_id = ? AND bucket = ? AND block = ?`,
    // Migration 0002: the index rows of a document's bucket share one partition (README.md).
    insertVersionTime: `INSERT INTO ${t('version_times')} (doc_id, bucket, ts, version) VALUES (?, ?, ?, ?)`,
    // The cell keeps the newest edit time whatever the write order: its write timestamp is that time (µs).
    insertUserDocBucket:
      `INSERT INTO ${t('user_doc_buckets')} (user_id, doc_id, bucket, last_ts) VALUES (?, ?, ?, ?) ` +
      'USING TIMESTAMP ?',

    selectHead: `SELECT version, length, last_user_id, updated_at FROM ${t('doc_heads')} WHERE doc_id = ?`,
    // A plain write whose cell timestamp comes from the version (head.ts: headTimestamp), so an older head can
    // never overwrite a newer one and no compare-and-set is needed.
    writeHead:
      `INSERT INTO ${t('doc_heads')} (doc_id, version, length, last_user_id, updated_at) VALUES (?, ?, ?, ?, ?) ` +
      'USING TIMESTAMP ?',

    selectOpBlocks: `SELECT block, ops FROM ${t('op_blocks')} WHERE doc_id = ? AND bucket = ? AND block >= ? AND block <= ?`,
    selectOpBlocksDesc:
      `SELECT block, ops FROM ${t('op_blocks')} WHERE doc_id = ? AND bucket = ? AND block <= ? ` +
      'ORDER BY block DESC',

    selectVersionTimeAt: `SELECT version FROM ${t('version_times')} WHERE doc_id = ? AND bucket = ? AND ts <= ? LIMIT 1`,
    selectAnyVersionTime: `SELECT version FROM ${t('version_times')} WHERE doc_id = ? AND bucket = ? LIMIT 1`,
    selectUserDocBuckets: `SELECT doc_id, bucket, last_ts FROM ${t('user_doc_buckets')} WHERE user_id = ?`,

    // Migration 0004: which consumer group's offsets describe this keyspace (projection-source.ts).
    selectProjectionSource: `SELECT group_id FROM ${t('projection_source')} WHERE topic = ?`,
    claimProjectionSource: `INSERT INTO ${t('projection_source')} (topic, group_id, claimed_at) VALUES (?, ?, ?) IF NOT EXISTS`,

    // Migration 0005: comment events in log order (comment-events.ts).
    insertCommentEvent: `INSERT INTO ${t('comment_events')} (doc_id, version, log_offset, event) VALUES (?, ?, ?, ?)`,
    selectCommentEvents:
      `SELECT log_offset, event FROM ${t('comment_events')} ` + 'WHERE doc_id = ? AND version >= ? AND version <= ?',

    // The 0001 tables, read only for rows written before migration 0002 (0003 for `ops`).
    selectLegacyOps:
      'SELECT version, op, base_version, client_id, seq, user_id, ts ' +
      `FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? AND version >= ? AND version < ? LIMIT ?`,
    selectLegacyOpsDesc:
      'SELECT version, user_id, client_id, ts ' +
      `FROM ${t('ops')} WHERE doc_id = ? AND bucket = ? AND version < ? ORDER BY version DESC`,
    selectAnyDocDay: `SELECT day FROM ${t('doc_days')} WHERE doc_id = ? LIMIT 1`,
    selectAnyUserDay: `SELECT day FROM ${t('user_days')} WHERE user_id = ? LIMIT 1`,
    selectVersionAtInDay: `SELECT version FROM ${t('versions_by_time')} WHERE doc_id = ? AND day = ? AND ts <= ? LIMIT 1`,
    selectDocDayBefore: `SELECT day FROM ${t('doc_days')} WHERE doc_id = ? AND day < ? LIMIT 1`,

    selectUserDays: `SELECT day FROM ${t('user_days')} WHERE user_id = ? AND day < ? LIMIT ?`,
    selectUserActivity: `SELECT ts, doc_id, version FROM ${t('user_activity')} WHERE user_id = ? AND day = ? LIMIT ?`,
  };
}

export type Statements = ReturnType<typeof statements>;
