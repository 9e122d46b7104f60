/**
 * An export with comment events (--comments) holds two kinds of record, told apart by a `kind` of `op` or
 * `comment` in every format: a field of each NDJSON line, the first field of Avro's wrapper record (beside the
 * `op` or the `comment`, the other one null), a column of the Parquet table. One place says how each kind is
 * named and how a comment event looks in the Avro file: as the comment-event schema of schemas/ decodes it.
 */
import { isCommentEvent, type CommentEvent, type LogValue } from '@collab/core';
import { currentSchema, encodeCommentEvent, readFrame, readSchemaFile, typeForId } from '@collab/schemas';
import type avro from 'avsc';

export const RECORD_KINDS = ['op', 'comment'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const kindOf = (record: LogValue): RecordKind => (isCommentEvent(record) ? 'comment' : 'op');

/** The comment event as the comment-event schema holds it: the codec's own mapping, decoded back. */
export function toAvroComment(event: CommentEvent): unknown {
  const { schemaId, body } = readFrame(encodeCommentEvent(event));
  return typeForId(schemaId).fromBuffer(body);
}

/**
 * The Avro file schema of an export with comment events: `collab.export.ExportRecord {kind, op, comment}`, `op`
 * the newest op-committed schema and `comment` the newest comment-event schema, each a union with null.
 */
export function exportRecordSchema(): avro.Schema {
  return {
    type: 'record',
    name: 'ExportRecord',
    namespace: 'collab.export',
    doc: 'One record of the ops topic: an op (kind "op", in `op`) or a comment event (kind "comment", in `comment`).',
    fields: [
      { name: 'kind', type: { type: 'enum', name: 'RecordKind', symbols: [...RECORD_KINDS] } },
      { name: 'op', type: ['null', readSchemaFile(currentSchema('op-committed'))], default: null },
      { name: 'comment', type: ['null', readSchemaFile(currentSchema('comment-event'))], default: null },
    ],
  } as avro.Schema;
}
