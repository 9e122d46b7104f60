/**
 * OpLog records ↔ Kafka messages: key = docId (UTF-8), value = the Avro frame of the record, an `OpCommitted` or
 * a `CommentEvent`, each with its own schema id (see @collab/schemas, LogValueCodec), headers = string headers
 * such as `traceparent`.
 */
import type { AppendInput, LogRecord } from '@collab/core';
import type { LogValueCodec } from '@collab/schemas';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export function toMessage(input: AppendInput, partition: number, codec: LogValueCodec): Message {
  return {
    key: input.value.docId,
    value: codec.encode(input.value),
    partition,
    // The record's timestamp is its commit time (an op's or a comment event's), so that Kafka's time index
    // (offsetsForTime) and the value agree on when it was committed.
    timestamp: String(input.value.timestamp),
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

/**
 * Lets the codec learn the schema ids of a batch it has not seen (a registry lookup, once per id); resolves at
 * once when every id is known — the common case.
 */
export async function prepareMessages(messages: readonly KafkaMessage[], codec: LogValueCodec): Promise<void> {
  for (const message of messages) {
    if (message.value === null) continue;
    const pending = codec.prepare(message.value);
    if (pending !== undefined) await pending;
  }
}

/** Decodes a consumed message; a value that does not decode throws ERR_CORRUPT (from the codec). */
export function toLogRecord(message: KafkaMessage, partition: number, codec: LogValueCodec): LogRecord {
  if (message.value === null) {
    throw new Error(`ops topic partition ${partition} offset ${message.offset}: record has no value`);
  }
  return {
    partition,
    offset: BigInt(message.offset),
    value: codec.decode(message.value),
    headers: headersOf(message.headers),
  };
}
