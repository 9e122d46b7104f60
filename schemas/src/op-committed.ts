/**
 * The codec of the ops topic's record value, `OpCommitted` (see `@collab/core` records.ts and
 * avro/op-committed/*.avsc). Encoding always uses the newest schema; decoding accepts every schema version ever
 * registered and resolves it to the newest (Avro schema resolution), so a record written years ago by v1 still
 * reads as today's `OpCommitted`.
 *
 * The op is stored typed, not as a JSON string, so data teams get real Avro: an array of a union of
 * long (skip), string (insert) and Delete {count, text?} — `{d: N}` is {count: N, text: null},
 * `{d: "abc"}` is {count: 3, text: "abc"} (count in code points).
 */
import type avro from 'avsc';
import { CollabError, type OpCommitted } from '@collab/core';
import type { TextOp, TextOpComponent } from '@collab/ot-text';
import { readFrame, writeFrame } from './framing.js';
import { currentSchema, typeForId } from './registry.js';

/** The record as avsc reads and writes it with the current schema (v1). */
interface AvroDelete {
  count: number;
  text: string | null;
}
type AvroComponent = number | string | AvroDelete;
interface AvroOpCommitted extends Omit<OpCommitted, 'op'> {
  op: AvroComponent[];
}

const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const positiveInteger = (n: number): boolean => Number.isSafeInteger(n) && n > 0;

function componentToAvro(c: TextOpComponent, index: number): AvroComponent {
  if (typeof c === 'number') {
    if (!positiveInteger(c)) throw invalid(`op component ${index}: a skip must be a positive integer, got ${c}`);
    return c;
  }
  if (typeof c === 'string') {
    if (c.length === 0) throw invalid(`op component ${index}: an insert must not be empty`);
    return c;
  }
  if (typeof c.d === 'number') {
    if (!positiveInteger(c.d)) throw invalid(`op component ${index}: {d: N} needs a positive integer, got ${c.d}`);
    return { count: c.d, text: null };
  }
  if (c.d.length === 0) throw invalid(`op component ${index}: {d: "text"} must not be empty`);
  return { count: codePoints(c.d), text: c.d };
}

function componentFromAvro(c: AvroComponent, index: number): TextOpComponent {
  if (typeof c === 'number' || typeof c === 'string') return c;
  if (c.text === null) return { d: c.count };
  // A Delete that carries its text must agree with its count: a mismatch means the writer was buggy and the op
  // would apply differently depending on which field a reader trusts.
  if (codePoints(c.text) !== c.count) {
    throw new CollabError(
      'ERR_CORRUPT',
      `op component ${index}: Delete count ${c.count} does not match its text's ${codePoints(c.text)} code points`,
    );
  }
  return { d: c.text };
}

const invalid = (message: string): CollabError => new CollabError('ERR_INVALID_ARGUMENT', message);

const CURRENT = currentSchema('op-committed');

/** The schema id `encodeOpCommitted` writes. */
export const OP_COMMITTED_SCHEMA_ID = CURRENT.id;

/** Encode with the current schema, framed (magic byte, schema id, Avro binary). */
export function encodeOpCommitted(value: OpCommitted): Buffer {
  const record: AvroOpCommitted = { ...value, op: value.op.map(componentToAvro) };
  const type = typeForId(CURRENT.id);
  const errors: string[] = [];
  if (!type.isValid(record, { errorHook: (path) => errors.push(path.join('.') || '(record)') })) {
    throw invalid(`OpCommitted does not fit schema ${CURRENT.file}: bad field(s) ${errors.join(', ')}`);
  }
  return writeFrame(CURRENT.id, type.toBuffer(record));
}

const resolvers = new Map<number, avro.Resolver>();

/**
 * Decode a frame written with any registered schema version. Throws ERR_CORRUPT for a bad magic byte, an unknown
 * schema id, truncated or trailing bytes, or data that does not decode.
 */
export function decodeOpCommitted(frame: Buffer): OpCommitted {
  const { schemaId, body } = readFrame(frame);
  const writer = typeForId(schemaId);
  const reader = typeForId(CURRENT.id);
  let record: AvroOpCommitted;
  try {
    if (schemaId === CURRENT.id) {
      record = reader.fromBuffer(body) as AvroOpCommitted;
    } else {
      let resolver = resolvers.get(schemaId);
      if (resolver === undefined) {
        resolver = reader.createResolver(writer);
        resolvers.set(schemaId, resolver);
      }
      record = reader.fromBuffer(body, resolver) as AvroOpCommitted;
    }
  } catch (err) {
    throw new CollabError(
      'ERR_CORRUPT',
      `OpCommitted frame with schema id ${schemaId} does not decode: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const op: TextOp = record.op.map(componentFromAvro);
  return {
    docId: record.docId,
    version: record.version,
    op,
    baseVersion: record.baseVersion,
    clientId: record.clientId,
    seq: record.seq,
    userId: record.userId,
    timestamp: record.timestamp,
  };
}
