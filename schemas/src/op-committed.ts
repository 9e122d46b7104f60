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
import { SCHEMAS, currentSchema, schemaEntry, schemaVersion, typeForId, type SchemaEntry } from './registry.js';

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
  /** Writer schemas by frame id; null: an id known to be no OpCommitted schema. */
  private readonly writers = new Map<number, avro.Type | null>();
  private readonly resolvers = new Map<number, avro.Resolver>();
  private readonly pending = new Map<number, Promise<void>>();
  private readonly lookup: OpCommittedCodecOptions['lookup'];

  /** `writerSchemaId`: the id framed into every record this codec encodes. */
  constructor(
    readonly writerSchemaId: number,
    options: OpCommittedCodecOptions = {},
  ) {
    this.schema = options.schemaVersion === undefined ? CURRENT : schemaVersion('op-committed', options.schemaVersion);
    this.type = typeForId(this.schema.id);
    this.writesComponents = (this.type as avro.types.RecordType).field('components') !== undefined;
    this.lookup = options.lookup;
    if (this.lookup === undefined) {
      for (const entry of SCHEMAS)
        if (entry.subject === 'op-committed') this.writers.set(entry.id, typeForId(entry.id));
    }
    for (const [id, version] of options.knownIds ?? []) {
      this.writers.set(id, typeForId(schemaVersion('op-committed', version).id));
    }
    this.writers.set(writerSchemaId, this.type);
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

  /**
   * Makes `decode(frame)` able to read the frame's schema id: a no-op (undefined, nothing to await) when the id
   * is known, else one lookup per id (concurrent callers share it). A frame that is not a frame is left to decode.
   */
  prepare(frame: Buffer): Promise<void> | undefined {
    if (frame.length < 5 || frame.readUInt8(0) !== 0) return undefined;
    const id = frame.readUInt32BE(1);
    const lookup = this.lookup;
    if (this.writers.has(id) || lookup === undefined) return undefined;
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = lookup(id)
        .then((schema) => {
          this.writers.set(id, this.writerFor(id, schema));
        })
        .finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  /**
   * The registry's schema when it is an OpCommitted; none when it is a CommentEvent (the topic's other kind, whose
   * union of records avsc cannot even parse unwrapped); else the local table's schema of that id, else none.
   */
  private writerFor(id: number, schema: avro.Schema | undefined): avro.Type | null {
    if (schema !== undefined) {
      const name = avro.Type.forSchema(schema, { wrapUnions: 'auto' }).name;
      if (name === OP_COMMITTED_NAME) return avro.Type.forSchema(schema, { wrapUnions: false });
      if (name === COMMENT_EVENT_NAME) return null;
    }
    const local = schemaEntry(id);
    return local?.subject === 'op-committed' ? typeForId(id) : null;
  }

  /** Whether the frame's schema id is an OpCommitted schema this codec reads (call `prepare` first). */
  knows(frame: Buffer): boolean {
    if (frame.length < 5 || frame.readUInt8(0) !== 0) return false;
    const writer = this.writers.get(frame.readUInt32BE(1));
    return writer !== undefined && writer !== null;
  }

  /**
   * Decode a frame written with any schema this codec knows. Throws ERR_CORRUPT for a bad magic byte, an unknown
   * schema id, truncated or trailing bytes, data that does not decode, or an op whose two forms disagree.
   */
  decode(frame: Buffer): OpCommitted {
    const { schemaId, body } = readFrame(frame);
    const writer = this.writers.get(schemaId);
    if (writer === undefined || writer === null) {
      const known = [...this.writers].filter(([, type]) => type !== null).map(([id]) => id);
      throw new CollabError(
        'ERR_CORRUPT',
        `unknown Avro schema id ${schemaId}${writer === null ? ' (not an OpCommitted schema in the registry, not a local id)' : ''} (known ids: ${known.join(', ')})`,
      );
    }
    let record: AvroOpCommitted;
    try {
      if (writer === this.type) {
        record = this.type.fromBuffer(body) as AvroOpCommitted;
      } else {
        let resolver = this.resolvers.get(schemaId);
        if (resolver === undefined) {
          resolver = this.type.createResolver(writer);
          this.resolvers.set(schemaId, resolver);
        }
        record = this.type.fromBuffer(body, resolver) as AvroOpCommitted;
      }
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
