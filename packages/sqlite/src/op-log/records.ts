/**
 * Log records as rows: the value and the headers are JSON text (legible with the sqlite3 shell, and what the port
 * carries), offsets are INTEGER columns turned into bigints at the edge.
 */
import { CollabError, type AppendInput, type LogRecord, type OpCommitted } from '@collab/core';

export interface RecordRow {
  partition_id: number;
  record_offset: number;
  value: string;
  headers: string;
}

export interface EncodedRecord {
  docId: string;
  version: number;
  value: string;
  headers: string;
}

export function encodeRecord(input: AppendInput): EncodedRecord {
  const headers = input.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new CollabError('ERR_INVALID_ARGUMENT', `header ${JSON.stringify(name)} must be a string`);
    }
  }
  return {
    docId: input.value.docId,
    version: input.value.version,
    value: JSON.stringify(input.value),
    headers: JSON.stringify(headers),
  };
}

export function decodeRecord(row: RecordRow): LogRecord {
  try {
    return {
      partition: row.partition_id,
      offset: BigInt(row.record_offset),
      value: JSON.parse(row.value) as OpCommitted,
      headers: JSON.parse(row.headers) as Record<string, string>,
    };
  } catch (cause) {
    throw new CollabError('ERR_CORRUPT', `log record ${row.partition_id}/${row.record_offset} is not valid JSON`, {
      cause,
      retriable: false,
    });
  }
}
