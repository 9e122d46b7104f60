/**
 * Where an export goes (with --comments, every record carries its kind: record-kinds.ts): NDJSON (one
 * OpCommitted JSON per line, as the log and the read API show it), an Avro
 * object container file — the OpCommitted schema of schemas/ in its header, records in Avro binary, blocks
 * compressed with the codec asked for — which any Avro tool reads without our code or a schema registry, or a
 * directory of Parquet part files.
 *
 * Every sink writes in segments: commit() puts what was written since the last one into the output and on disk
 * and says where the output stands, which a checkpoint records; resuming from that position continues the same
 * output (the file cut back to it, the next Avro blocks with the file's sync marker, the next part file).
 */
import { isOpCommitted, type LogValue, type OpCommitted } from '@collab/core';
import { createAvroSink } from './avro-sink.js';
import type { OutputPosition } from './checkpoint.js';
import { createNdjsonSink } from './ndjson-sink.js';
import { createParquetSink } from './parquet-sink.js';
import type { ExportRequest } from './request.js';
import { fileTarget, stdoutTarget } from './targets.js';

export interface RecordSink {
  /** An op; a comment event only in a sink made for them (`comments`). */
  write(record: LogValue): Promise<void>;
  /** Everything written so far is in the output and on disk; returns where the output stands. */
  commit(): Promise<OutputPosition>;
  /** Commit, finish the output (e.g. its last block), close it. */
  end(): Promise<void>;
  /** Close after a failure, keeping what was committed (the checkpoint's output). */
  close(): Promise<void>;
}

/** `resumeAt`: continue an output written up to this position (its checkpoint's). */
export async function createSink(
  request: Pick<ExportRequest, 'format' | 'codec' | 'out' | 'comments'>,
  resumeAt?: OutputPosition,
): Promise<RecordSink> {
  const { format, codec, out } = request;
  const comments = request.comments === true;
  if (format === 'parquet') {
    if (out === undefined) throw new Error('internal: parquet needs --out (checkRequest)');
    return createParquetSink(out, codec, comments, resumeAt === undefined ? undefined : partsOf(resumeAt));
  }
  const bytes = resumeAt === undefined ? undefined : bytesOf(resumeAt);
  const target = out === undefined ? stdoutTarget() : await fileTarget(out, bytes);
  return format === 'ndjson'
    ? createNdjsonSink(target, comments)
    : createAvroSink(target, codec, out, bytes !== undefined, comments);
}

/** What a sink made for ops only does with a comment event: the scan never hands one over (--comments off). */
export function opOnly(record: LogValue): OpCommitted {
  if (!isOpCommitted(record)) throw new Error('internal: a comment event in an export of ops only');
  return record;
}

function bytesOf(position: OutputPosition): number {
  if (!('bytes' in position)) throw new Error('a checkpoint of part files cannot resume a file');
  return position.bytes;
}

function partsOf(position: OutputPosition): number {
  if (!('parts' in position)) throw new Error('a checkpoint of a file cannot resume a Parquet directory');
  return position.parts;
}
