/**
 * What an export is asked for, checked and in one plain shape: which documents, which part of the log (a time
 * range on the records' commit timestamps and/or an offset range per partition), the format and the file. A
 * checkpoint stores it, so that `--resume` can refuse to continue a different export into the same file.
 */
import { UsageError } from '../errors.js';

export const EXPORT_FORMATS = ['ndjson', 'avro', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Compression of Avro blocks (the Avro spec's codec names) or of Parquet pages (`null`: none). */
export const EXPORT_CODECS = ['null', 'deflate', 'snappy'] as const;
export type ExportCodec = (typeof EXPORT_CODECS)[number];

export interface ExportRequest {
  /** The documents to export, or every one. */
  docs: readonly string[] | 'all';
  /**
   * Commit times, ms since the epoch: from the first record of each partition stamped at or after `since` to the
   * first stamped at or after `until` (excluded), found in the log's time index (plan.ts).
   */
  since?: number;
  until?: number;
  /** Per partition: the first offset to read, and the offset to stop before. Partitions absent: the whole log. */
  fromOffsets: ReadonlyMap<number, bigint>;
  toOffsets: ReadonlyMap<number, bigint>;
  format: ExportFormat;
  codec: ExportCodec;
  /**
   * Comment events too (docs/comments.md), each record with its kind (`op` or `comment`): a `kind` field in
   * NDJSON, a wrapper record in Avro, a `kind` column in Parquet (export/record-kinds.ts). Default: ops only.
   */
  comments?: boolean;
  /** The file (NDJSON, Avro) or directory (Parquet); undefined: stdout. */
  out?: string;
}

/** The codec when none was asked for: what each format's readers expect by default. */
export const defaultCodec = (format: ExportFormat): ExportCodec => (format === 'parquet' ? 'snappy' : 'null');

/** Every problem of a request that parsed flag by flag, at once. */
export function checkRequest(request: ExportRequest): ExportRequest {
  const problems: string[] = [];
  if (request.docs !== 'all' && request.docs.length === 0) problems.push('no document given');
  if (request.since !== undefined && request.until !== undefined && request.since >= request.until) {
    problems.push(`--since must be before --until`);
  }
  if (request.format === 'ndjson' && request.codec !== 'null') problems.push('--codec is for avro and parquet');
  if (request.format === 'parquet' && request.codec === 'deflate') {
    problems.push('--codec deflate is for avro; parquet takes null or snappy');
  }
  if (request.format === 'parquet' && request.out === undefined) {
    problems.push('--format parquet writes a directory of part files: give it with --out');
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return request;
}

/** The request as JSON (bigints as strings, maps as objects): what a checkpoint stores and compares. */
export function requestToJson(request: ExportRequest): Record<string, unknown> {
  const offsets = (m: ReadonlyMap<number, bigint>) =>
    Object.fromEntries([...m].sort(([a], [b]) => a - b).map(([p, o]) => [String(p), o.toString()]));
  return {
    docs: request.docs === 'all' ? 'all' : [...request.docs],
    since: request.since ?? null,
    until: request.until ?? null,
    fromOffsets: offsets(request.fromOffsets),
    toOffsets: offsets(request.toOffsets),
    format: request.format,
    codec: request.codec,
    out: request.out ?? null,
    // Only when asked: a checkpoint written before the flag existed is the same request as one without it.
    ...(request.comments === true ? { comments: true } : {}),
  };
}
