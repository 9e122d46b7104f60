/**
 * An Avro object container file with the newest OpCommitted schema of schemas/avro/op-committed in its header
 * (with comment events, the wrapper record of record-kinds.ts, `{kind, op, comment}`).
 * Each segment between commits is one avsc BlockEncoder (blocks of up to 64 KiB, compressed with the codec), its
 * bytes appended when the segment ends: a file cut at a commit is a complete container file, and the next
 * segment's encoder writes no header and reuses the file's sync marker (read back from the header on a resume).
 */
import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { CollabError, isCommentEvent, type LogValue, type OpCommitted } from '@collab/core';
import { currentSchema, encodeOpCommitted, readFrame, readSchemaFile, typeForId } from '@collab/schemas';
import avro from 'avsc';
import { avroEncoderCodecs } from './avro-codecs.js';
import type { ExportCodec } from './request.js';
import { exportRecordSchema, kindOf, toAvroComment } from './record-kinds.js';
import { opOnly, type RecordSink } from './sinks.js';
import type { ByteTarget } from './targets.js';

/** The record as the Avro schema holds it: the codec's own validation and op mapping, then decoded back. */
export function toAvroRecord(op: OpCommitted): unknown {
  const { schemaId, body } = readFrame(encodeOpCommitted(op));
  return typeForId(schemaId).fromBuffer(body);
}

interface Segment {
  encoder: avro.streams.BlockEncoder;
  chunks: Buffer[];
  records: number;
  done: Promise<void>;
}

/** `resuming`: the file (`out`) already has a header and the blocks of the checkpoint; append after them. */
export function createAvroSink(
  target: ByteTarget,
  codec: ExportCodec,
  out: string | undefined,
  resuming: boolean,
  comments: boolean,
): RecordSink {
  const schema = comments ? exportRecordSchema() : readSchemaFile(currentSchema('op-committed'));
  const toFileRecord = comments
    ? (record: LogValue) => ({
        kind: kindOf(record),
        op: isCommentEvent(record) ? null : toAvroRecord(record),
        comment: isCommentEvent(record) ? toAvroComment(record) : null,
      })
    : (record: LogValue) => toAvroRecord(opOnly(record));
  // The file's sync marker: ours for a new file, the header's on a resume (every block of a file must end with it).
  let syncMarker: Buffer = randomBytes(16);
  if (resuming) {
    const header = avro.extractFileHeader(out!) as { meta: Record<string, Buffer>; sync: Buffer } | null;
    const written = header?.meta['avro.codec']?.toString() ?? 'null';
    if (header === null || written !== codec) {
      throw new CollabError('ERR_CORRUPT', `cannot resume into ${out}: not an Avro file written with codec ${codec}`);
    }
    syncMarker = header.sync;
  }

  const start = (writeHeader: boolean): Segment => {
    const encoder = new avro.streams.BlockEncoder(schema, {
      codec,
      codecs: avroEncoderCodecs,
      writeHeader: writeHeader ? 'always' : 'never',
      syncMarker,
    });
    const chunks: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = finished(encoder);
    done.catch(() => {}); // observed by commit(); this keeps an early failure from being an unhandled rejection
    return { encoder, chunks, records: 0, done };
  };

  let segment = start(!resuming);
  let headerPending = !resuming; // a new file gets its header at the first commit even when it has no record

  const commit = async () => {
    if (segment.records > 0 || headerPending) {
      const ending = segment;
      ending.encoder.end();
      await ending.done;
      await target.append(ending.chunks);
      headerPending = false;
      segment = start(false);
    }
    await target.sync();
    return { bytes: target.bytes };
  };

  return {
    async write(record) {
      segment.records++;
      if (!segment.encoder.write(toFileRecord(record))) {
        await Promise.race([once(segment.encoder, 'drain'), segment.done]);
      }
    },
    commit,
    async end() {
      await commit();
      segment.encoder.destroy();
      await target.close();
    },
    async close() {
      segment.encoder.destroy();
      await target.close();
    },
  };
}
