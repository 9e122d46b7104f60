/**
 * A directory of Parquet files, `part-00000.parquet`, `part-00001.parquet`, …: each commit writes the rows since
 * the last one as one complete file (a Parquet footer cannot be appended to, so a resumable export cannot be one
 * file). Spark, pyarrow, DuckDB and Trino read such a directory as one table. A part is written under a temporary
 * name, synced and renamed, so a part file that exists is whole; a resume removes the parts after its checkpoint.
 *
 * Columns (all required): docId, version, baseVersion, clientId, seq, userId as in OpCommitted; timestamp as a
 * TIMESTAMP_MILLIS; op as JSON text (the text-unicode op, docs/data.md).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OpCommitted } from '@collab/core';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { ExportCodec } from './request.js';
import { writeDurably } from '../storage/durable-file.js';
import type { RecordSink } from './sinks.js';

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
export function createParquetSink(dir: string, codec: ExportCodec, resumeAt?: number): RecordSink {
  mkdirSync(dir, { recursive: true });
  removePartsFrom(dir, resumeAt ?? 0);
  let parts = resumeAt ?? 0;
  let rows: OpCommitted[] = [];

  const commit = async () => {
    if (rows.length > 0) {
      const writer = new ByteWriter();
      const column = <T>(pick: (op: OpCommitted) => T) => rows.map(pick);
      const int64 = (pick: (op: OpCommitted) => number) => BigInt64Array.from(rows, (op) => BigInt(pick(op)));
      parquetWrite({
        writer,
        codec: codec === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
        createdBy: 'collab export',
        columnData: [
          { name: 'docId', data: column((op) => op.docId), type: 'STRING', nullable: false },
          { name: 'version', data: int64((op) => op.version), type: 'INT64', nullable: false },
          { name: 'op', data: column((op) => op.op), type: 'JSON', nullable: false },
          { name: 'baseVersion', data: int64((op) => op.baseVersion), type: 'INT64', nullable: false },
          { name: 'clientId', data: column((op) => op.clientId), type: 'STRING', nullable: false },
          { name: 'seq', data: int64((op) => op.seq), type: 'INT64', nullable: false },
          { name: 'userId', data: column((op) => op.userId), type: 'STRING', nullable: false },
          { name: 'timestamp', data: column((op) => new Date(op.timestamp)), type: 'TIMESTAMP', nullable: false },
        ],
      });
      await writeDurably(join(dir, partName(parts)), writer.getBytes());
      parts++;
      rows = [];
    }
    return { parts };
  };

  return {
    write: async (op) => {
      rows.push(op);
    },
    commit,
    async end() {
      await commit();
    },
    close: async () => {},
  };
}
