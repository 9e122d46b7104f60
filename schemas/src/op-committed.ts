/**
 * The codec of the ops topic's record value, `OpCommitted` (see `@collab/core` records.ts and
 * avro/op-committed/*.avsc). Encoding uses the newest schema; decoding accepts every schema version ever
 * registered and resolves it to the newest (Avro schema resolution), so a record written years ago by v1 still
 * reads as today's `OpCommitted`.
 *
 * The op is stored typed, not as a JSON string, in two forms (op-components.ts): `op`, v1's array of a union of
 * long (skip), string (insert) and Delete, and since v2 `components`, the same op as plain records for the tools
 * that handle unions of primitives badly. Every v2 record carries both, so v1 readers keep working; decoding
 * prefers `components`, falls back to `op` (records written with v1) and refuses a record whose two forms
 * disagree (ERR_CORRUPT).
 */
import avro from 'avsc';
import { CollabError, type OpCommitted } from '@collab/core';
import { readFrame, writeFrame } from './framing.js';
import {
  opOfRecord,
  toOpComponents,
  toUnionComponents,
  type AvroOpComponent,
  type AvroUnionComponent,
} from './op-components.js';
import { currentSchema, schemaEntry, schemaVersion, typeForId, type SchemaEntry } from './registry.js';
import { WriterSchemas } from './writer-schemas.js';

/** The record as avsc reads and writes it; `components` exists from v2 on. */
interface AvroOpCommitted extends Omit<OpCommitted, 'op'> {
  op: AvroUnionComponent[];
  components?: AvroOpComponent[];
}

const invalid = (message: string): CollabError => new CollabError('ERR_INVALID_ARGUMENT', message);

const CURRENT = currentSchema('op-committed');

/** The schema id `encodeOpCommitted` writes: the local table's id (see registry.ts), used without a registry. */
export const OP_COMMITTED_SCHEMA_ID = CURRENT.id;

/** The full name every OpCommitted schema version has: how a registry's schema is recognised as one. */
const OP_COMMITTED_NAME = 'collab.ops.OpCommitted';
/** The topic's other record kind (comment-event.ts). */
const COMMENT_EVENT_NAME = 'collab.comments.CommentEvent';

export interface OpCommittedCodecOptions {
  /**
   * The op-committed schema version the codec encodes with and resolves every record to; default the newest.
   * An older one makes the codec behave as the code of that time did (tests of old readers and old writers).
   */
  schemaVersion?: number;
  /**
   * Fetches the Avro schema of an id the codec does not know (a schema registry), or undefined when the registry
   * has no such id or it is not an OpCommitted schema. With it, ids are the registry's: a local id (registry.ts)
   * is only a fallback for frames whose id the registry does not resolve to an OpCommitted schema (records
   * written before a registry was configured). Without it, ids are the local table's and other ids ERR_CORRUPT.
   */
  lookup?: (id: number) => Promise<avro.Schema | undefined>;
  /** Registry ids known to hold a local schema version (id → version), resolved at start: no lookup for them. */
  knownIds?: ReadonlyMap<number, number>;
}

/**
 * The registry's schema when it is an OpCommitted; none when it is a CommentEvent (the topic's other kind, whose
 * union of records avsc cannot even parse unwrapped); else the local table's schema of that id, else none.
 */
function writerFor(id: number, schema: avro.Schema | undefined): avro.Type | null {
  if (schema !== undefined) {
    const name = avro.Type.forSchema(schema, { wrapUnions: 'auto' }).name;
    if (name === OP_COMMITTED_NAME) return avro.Type.forSchema(schema, { wrapUnions: false });
    if (name === COMMENT_EVENT_NAME) return null;
  }
  const local = schemaEntry(id);
  return local?.subject === 'op-committed' ? typeForId(id) : null;
}

/**
 * Encodes with one schema version under one schema id, and decodes frames by the id they carry (Avro schema
 * resolution from the writer's schema to the codec's). Without a schema registry the ids are the local table's
 * (registry.ts); with one (registry-codec.ts) they are the registry's, and an id the codec does not know is
 * looked up by `prepare` before `decode`.
 */
export class OpCommittedCodec {
  /** The schema the codec writes and reads into. */
  readonly schema: SchemaEntry;
  private readonly type: avro.Type;
  private readonly writesComponents: boolean;
  private readonly writers: WriterSchemas;

  /** `writerSchemaId`: the id framed into every record this codec encodes. */
  constructor(
    readonly writerSchemaId: number,
    options: OpCommittedCodecOptions = {},
  ) {
    this.schema = options.schemaVersion === undefined ? CURRENT : schemaVersion('op-committed', options.schemaVersion);
    this.type = typeForId(this.schema.id);
    this.writesComponents = (this.type as avro.types.RecordType).field('components') !== undefined;
    this.writers = new WriterSchemas('op-committed', { type: this.type, id: writerSchemaId }, options, writerFor);
  }

  /** Encode with the codec's schema, framed (magic byte, `writerSchemaId`, Avro binary). */
  encode(value: OpCommitted): Buffer {
    const record: AvroOpCommitted = { ...value, op: toUnionComponents(value.op) };
    if (this.writesComponents) record.components = toOpComponents(value.op);
    const errors: string[] = [];
    if (!this.type.isValid(record, { errorHook: (path) => errors.push(path.join('.') || '(record)') })) {
      throw invalid(`OpCommitted does not fit schema ${this.schema.file}: bad field(s) ${errors.join(', ')}`);
    }
    return writeFrame(this.writerSchemaId, this.type.toBuffer(record));
  }

  /** Makes `decode(frame)` able to read the frame's schema id (WriterSchemas.prepare). */
  prepare(frame: Buffer): Promise<void> | undefined {
    return this.writers.prepare(frame);
  }

  /** Whether the frame's schema id is an OpCommitted schema this codec reads (call `prepare` first). */
  knows(frame: Buffer): boolean {
    return this.writers.knows(frame);
  }

  /**
   * Decode a frame written with any schema this codec knows. Throws ERR_CORRUPT for a bad magic byte, an unknown
   * schema id, truncated or trailing bytes, data that does not decode, or an op whose two forms disagree.
   */
  decode(frame: Buffer): OpCommitted {
    const { schemaId, body } = readFrame(frame);
    const writer = this.writers.writer(schemaId);
    if (writer === undefined || writer === null) {
      const known = this.writers.knownIds();
      throw new CollabError(
        'ERR_CORRUPT',
        `unknown Avro schema id ${schemaId}${writer === null ? ' (not an OpCommitted schema in the registry, not a local id)' : ''} (known ids: ${known.join(', ')})`,
      );
    }
    let record: AvroOpCommitted;
    try {
      record = this.writers.read(schemaId, writer, body) as AvroOpCommitted;
    } catch (err) {
      throw new CollabError(
        'ERR_CORRUPT',
        `OpCommitted frame with schema id ${schemaId} does not decode: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      docId: record.docId,
      version: record.version,
      op: opOfRecord(record.op, record.components),
      baseVersion: record.baseVersion,
      clientId: record.clientId,
      seq: record.seq,
      userId: record.userId,
      timestamp: record.timestamp,
    };
  }
}

/** A codec without a registry for one schema version (default the newest): frames carry the local table's ids. */
export function localOpCommittedCodecFor(version?: number): OpCommittedCodec {
  const entry = version === undefined ? CURRENT : schemaVersion('op-committed', version);
  return new OpCommittedCodec(entry.id, { schemaVersion: entry.version });
}

/** The codec without a registry: frames carry the local table's ids (the only ids written before registries). */
export const localOpCommittedCodec = localOpCommittedCodecFor();

/** Encode with the current schema and the local schema id (see OpCommittedCodec). */
export function encodeOpCommitted(value: OpCommitted): Buffer {
  return localOpCommittedCodec.encode(value);
}

/** Decode a frame carrying one of the local table's schema ids (see OpCommittedCodec). */
export function decodeOpCommitted(frame: Buffer): OpCommitted {
  return localOpCommittedCodec.decode(frame);
}
