/**
 * The wire framing of every Avro-encoded record we put on a topic (the Confluent Schema Registry convention, so
 * standard tooling can read our topics once the ids are registered there):
 *
 *   byte 0      magic byte, always 0
 *   bytes 1-4   schema id, unsigned 32-bit big-endian (see registry.ts)
 *   bytes 5-    the record in Avro binary encoding, written with that schema
 *
 * The id names the *writer* schema, so a reader can always decode old records with today's reader schema.
 */
import { CollabError } from '@collab/core';

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

export interface Frame {
  schemaId: number;
  body: Buffer;
}

export function writeFrame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Splits a frame into its schema id and Avro body; ERR_CORRUPT when the header is missing or wrong. */
export function readFrame(frame: Buffer): Frame {
  if (frame.length < HEADER_LENGTH) {
    throw new CollabError(
      'ERR_CORRUPT',
      `Avro frame too short: ${frame.length} bytes, the header alone is ${HEADER_LENGTH} (magic byte + schema id)`,
    );
  }
  const magic = frame.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new CollabError('ERR_CORRUPT', `Avro frame has magic byte ${magic}, expected ${MAGIC_BYTE}`);
  }
  return { schemaId: frame.readUInt32BE(1), body: frame.subarray(HEADER_LENGTH) };
}
