/**
 * A directory of Parquet files, `part-00000.parquet`, `part-00001.parquet`, …: each commit writes the rows since
 * the last one as one complete file (a Parquet footer cannot be appended to, so a resumable export cannot be one
 * file). Spark, pyarrow, DuckDB and Trino read such a directory as one table. A part is written under a temporary
 * name, synced and renamed, so a part file that exists is whole; a resume removes the parts after its checkpoint.
 *
 * Columns (all required): docId, version, baseVersion, clientId, seq, userId as in OpCommitted; timestamp as a
 * TIMESTAMP_MILLIS; op as JSON text (the text-unicode op, docs/data.md). With comment events: first a `kind`
 * column (`op` or `comment`, record-kinds.ts), op, baseVersion, clientId and seq null in a comment's row, and a
 * last column `comment`, the event's body as JSON text (null in an op's row).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isCommentEvent, type LogValue, type OpCommitted } from '@collab/core';
import { ByteWriter, parquetWrite, type ColumnSource } from 'hyparquet-writer';
import type { ExportCodec } from './request.js';
import { writeDurably } from '../storage/durable-file.js';
import { kindOf } from './record-kinds.js';
import { opOnly, type RecordSink } from './sinks.js';

const PART = /^part-(\d{5,})\.parquet$/;
export const partName = (index: number): string => `part-${String(index).padStart(5, '0')}.parquet`;

/** Remove the part files numbered `from` and beyond, and any temporary file, so the parts run 0..from-1. */
function removePartsFrom(dir: string, from: number): void {
  for (const name of readdirSync(dir)) {
    const match = PART.exec(name);
    if ((match !== null && Number(match[1]) >= from) || name.endsWith('.parquet.tmp')) rmSync(join(dir, name));
  }
}

/** `resumeAt`: the number of parts a checkpoint counted. */
export function createParquetSink(dir: string, codec: ExportCodec, comments: boolean, resumeAt?: number): RecordSink {
  mkdirSync(dir, { recursive: true });
  removePartsFrom(dir, resumeAt ?? 0);
  let parts = resumeAt ?? 0;
  let rows: LogValue[] = [];

  const commit = async () => {
    if (rows.length > 0) {
      const writer = new ByteWriter();
      const column = <T>(pick: (r: LogValue) => T) => rows.map(pick);
      // An op's field, null in a comment event's row (only in an export with comments).
      const opField = <T>(pick: (op: OpCommitted) => T) => column((r) => (isCommentEvent(r) ? null : pick(r)));
      const int64 = (pick: (r: LogValue) => number) => BigInt64Array.from(rows, (r) => BigInt(pick(r)));
      const int64OrNull = (pick: (op: OpCommitted) => number) => opField((op) => BigInt(pick(op)));
      const opColumns: ColumnSource[] = comments
        ? [
            { name: 'op', data: opField((op) => op.op), type: 'JSON', nullable: true },
            { name: 'baseVersion', data: int64OrNull((op) => op.baseVersion), type: 'INT64', nullable: true },
            { name: 'clientId', data: opField((op) => op.clientId), type: 'STRING', nullable: true },
            { name: 'seq', data: int64OrNull((op) => op.seq), type: 'INT64', nullable: true },
          ]
        : [
            { name: 'op', data: column((r) => opOnly(r).op), type: 'JSON', nullable: false },
            { name: 'baseVersion', data: int64((r) => opOnly(r).baseVersion), type: 'INT64', nullable: false },
            { name: 'clientId', data: column((r) => opOnly(r).clientId), type: 'STRING', nullable: false },
            { name: 'seq', data: int64((r) => opOnly(r).seq), type: 'INT64', nullable: false },
          ];
      parquetWrite({
        writer,
        codec: codec === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
        createdBy: 'collab export',
        columnData: [
          ...(comments
            ? [{ name: 'kind', data: column(kindOf), type: 'STRING', nullable: false } as ColumnSource]
            : []),
          { name: 'docId', data: column((r) => r.docId), type: 'STRING', nullable: false },
          { name: 'version', data: int64((r) => r.version), type: 'INT64', nullable: false },
          ...opColumns,
          { name: 'userId', data: column((r) => r.userId), type: 'STRING', nullable: false },
          { name: 'timestamp', data: column((r) => new Date(r.timestamp)), type: 'TIMESTAMP', nullable: false },
          ...(comments
            ? [
                {
                  name: 'comment',
                  data: column((r) => (isCommentEvent(r) ? r.body : null)),
                  type: 'JSON',
                  nullable: true,
                } as ColumnSource,
              ]
            : []),
        ],
      });
      await writeDurably(join(dir, partName(parts)), writer.getBytes());
      parts++;
      rows = [];
    }
    return { parts };
  };

  return {
    write: async (record) => {
      rows.push(record);
    },
    commit,
    async end() {
      await commit();
    },
    close: async () => {},
  };
}
