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
import avro from 'avsc';
import { CollabError, type OpCommitted } from '@collab/core';
import type { TextOp, TextOpComponent } from '@collab/ot-text';
import { readFrame, writeFrame } from './framing.js';
import { SCHEMAS, currentSchema, typeForId } from './registry.js';

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

/** The schema id `encodeOpCommitted` writes: the local table's id (see registry.ts), used without a registry. */
export const OP_COMMITTED_SCHEMA_ID = CURRENT.id;

/**
 * Encodes with the current schema under one schema id, and decodes frames by the id they carry (Avro schema
 * resolution from the writer's schema to the current one). Without a schema registry the ids are the local
 * table's (registry.ts); with one (registry-codec.ts) the writer id is the registry's, and ids the codec does
 * not know are looked up by `prepare` before `decode`.
 */
export class OpCommittedCodec {
  private readonly reader = typeForId(CURRENT.id);
  private readonly writers = new Map<number, avro.Type>();
  private readonly resolvers = new Map<number, avro.Resolver>();

  /**
   * `writerSchemaId`: the id framed into every record this codec encodes. `lookup`: fetches the Avro schema of
   * an id the codec does not know (a registry); without it such ids are ERR_CORRUPT.
   */
  constructor(
    readonly writerSchemaId: number,
    private readonly lookup?: (id: number) => Promise<avro.Schema>,
  ) {
    for (const entry of SCHEMAS) if (entry.subject === 'op-committed') this.writers.set(entry.id, typeForId(entry.id));
    this.writers.set(writerSchemaId, this.reader);
  }

  /** Encode with the current schema, framed (magic byte, `writerSchemaId`, Avro binary). */
  encode(value: OpCommitted): Buffer {
    const record: AvroOpCommitted = { ...value, op: value.op.map(componentToAvro) };
    const errors: string[] = [];
    if (!this.reader.isValid(record, { errorHook: (path) => errors.push(path.join('.') || '(record)') })) {
      throw invalid(`OpCommitted does not fit schema ${CURRENT.file}: bad field(s) ${errors.join(', ')}`);
    }
    return writeFrame(this.writerSchemaId, this.reader.toBuffer(record));
  }

  /**
   * Makes `decode(frame)` able to read the frame's schema id: a no-op (undefined, nothing to await) when the id
   * is known, else one lookup per id (concurrent callers share it). A frame that is not a frame is left to decode.
   */
  prepare(frame: Buffer): Promise<void> | undefined {
    if (frame.length < 5 || frame.readUInt8(0) !== 0) return undefined;
    const id = frame.readUInt32BE(1);
    if (this.writers.has(id) || this.lookup === undefined) return undefined;
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = this.lookup(id)
        .then((schema) => {
          this.writers.set(id, avro.Type.forSchema(schema, { wrapUnions: false }));
        })
        .finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  private readonly pending = new Map<number, Promise<void>>();

  /**
   * Decode a frame written with any schema this codec knows. Throws ERR_CORRUPT for a bad magic byte, an unknown
   * schema id, truncated or trailing bytes, or data that does not decode.
   */
  decode(frame: Buffer): OpCommitted {
    const { schemaId, body } = readFrame(frame);
    const writer = this.writers.get(schemaId);
    if (writer === undefined) {
      const known = [...this.writers.keys()].join(', ');
      throw new CollabError('ERR_CORRUPT', `unknown Avro schema id ${schemaId} (known ids: ${known})`);
    }
    let record: AvroOpCommitted;
    try {
      if (writer === this.reader) {
        record = this.reader.fromBuffer(body) as AvroOpCommitted;
      } else {
        let resolver = this.resolvers.get(schemaId);
        if (resolver === undefined) {
          resolver = this.reader.createResolver(writer);
          this.resolvers.set(schemaId, resolver);
        }
        record = this.reader.fromBuffer(body, resolver) as AvroOpCommitted;
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
}

/** The codec without a registry: frames carry the local table's ids (the only ids written before registries). */
export const localOpCommittedCodec = new OpCommittedCodec(CURRENT.id);

/** Encode with the current schema and the local schema id (see OpCommittedCodec). */
export function encodeOpCommitted(value: OpCommitted): Buffer {
  return localOpCommittedCodec.encode(value);
}

/** Decode a frame carrying one of the local table's schema ids (see OpCommittedCodec). */
export function decodeOpCommitted(frame: Buffer): OpCommitted {
  return localOpCommittedCodec.decode(frame);
}
