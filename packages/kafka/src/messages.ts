/**
 * OpLog records ↔ Kafka messages: key = docId (UTF-8), value = the Avro frame of `OpCommitted` (see
 * @collab/schemas), headers = string headers such as `traceparent`.
 */
import type { AppendInput, LogRecord } from '@collab/core';
import { decodeOpCommitted, encodeOpCommitted } from '@collab/schemas';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export function toMessage(input: AppendInput, partition: number): Message {
  return {
    key: input.value.docId,
    value: encodeOpCommitted(input.value),
    partition,
    headers: { ...input.headers },
  };
}

/** Kafka allows repeated header keys; the port has one value per key, so the last one wins. */
function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) out[key] = value.toString();
  }
  return out;
}

/** Decodes a consumed message; a value that does not decode throws ERR_CORRUPT (from the codec). */
export function toLogRecord(message: KafkaMessage, partition: number): LogRecord {
  if (message.value === null) {
    throw new Error(`ops topic partition ${partition} offset ${message.offset}: record has no value`);
  }
  return {
    partition,
    offset: BigInt(message.offset),
    value: decodeOpCommitted(message.value),
    headers: headersOf(message.headers),
  };
}
