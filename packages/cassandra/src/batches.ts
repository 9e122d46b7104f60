/**
 * Grouping row writes into single-partition unlogged batches.
 *
 * Every row of a writeOps call is tagged with its table and partition key; rows that share both go out as one
 * UNLOGGED batch, which Cassandra applies as ONE mutation on each replica (no batchlog, atomic and isolated
 * within the partition) — the one case Cassandra recommends unlogged batches for. Rows of different partitions
 * are never mixed: a multi-partition unlogged batch makes the coordinator fan out and wait for every partition,
 * and a multi-partition logged batch costs a batchlog write.
 *
 * Groups are cut into batches of at most `maxRows` rows and about `maxBytes` bytes (the bound values' sizes plus
 * a small per-row overhead). Cassandra only checks batch_size_warn/fail_threshold (defaults 5 KiB / 50 KiB;
 * 64 KiB / 640 KiB in infra/images/cassandra) for batches that span more than one partition (CASSANDRA-10876),
 * so a single-partition batch would not be refused for its size; the cap keeps each mutation small anyway (far
 * below max_mutation_size = commitlog_segment_size / 2), keeps request latency bounded, and keeps us under the
 * default fail threshold should a batch ever be checked. A row larger than `maxBytes` on its own is written as a
 * single statement, as before batching: it is split off, never refused.
 */

export interface RowWrite {
  query: string;
  params: unknown[];
  /** Table and partition key values; rows with equal keys are in the same partition of the same table. */
  partition: string;
  bytes: number;
}

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
}

/** Default byte cap: under Cassandra's default batch_size_fail_threshold of 50 KiB. */
export const DEFAULT_BATCH_MAX_BYTES = 48 * 1024;
/** Default row cap (the protocol allows 65,535 statements per batch). */
export const DEFAULT_BATCH_MAX_ROWS = 500;

/** Per row: the statement id and flags, a length prefix per value, the clustering and cell overhead. */
const ROW_OVERHEAD_BYTES = 32;

/** A conservative estimate of a row's size: UTF-8 bytes of text values, 8 bytes for numbers and dates. */
export function estimateBytes(params: readonly unknown[]): number {
  let bytes = ROW_OVERHEAD_BYTES;
  for (const p of params) {
    bytes += 4 + (typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : 8);
  }
  return bytes;
}

/**
 * Rows grouped by partition (first-seen order kept, rows in the order given), each group cut into units of at
 * most `maxRows` rows and `maxBytes` bytes; a unit of one row is sent as a plain statement.
 */
export function planBatches(rows: readonly RowWrite[], limits: BatchLimits): RowWrite[][] {
  const groups = new Map<string, RowWrite[]>();
  for (const row of rows) {
    const group = groups.get(row.partition);
    if (group === undefined) groups.set(row.partition, [row]);
    else group.push(row);
  }
  const units: RowWrite[][] = [];
  for (const group of groups.values()) {
    let unit: RowWrite[] = [];
    let bytes = 0;
    for (const row of group) {
      if (unit.length > 0 && (unit.length >= limits.maxRows || bytes + row.bytes > limits.maxBytes)) {
        units.push(unit);
        unit = [];
        bytes = 0;
      }
      unit.push(row);
      bytes += row.bytes;
    }
    if (unit.length > 0) units.push(unit);
  }
  return units;
}
