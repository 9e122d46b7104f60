/**
 * What a codec of one record kind knows of the schema ids frames carry: the writer schema of each id (null: an id
 * known to hold the topic's other record kind), and the resolver from each writer schema to the codec's own. Without
 * a registry the ids are the local table's for the subject; with one, an unknown id is looked up by `prepare`,
 * once (concurrent callers share the lookup), and `classify` says what the registry's schema is.
 */
import type avro from 'avsc';
import { SCHEMAS, schemaVersion, typeForId, type SchemaEntry } from './registry.js';

export interface WriterSchemaOptions {
  /** Fetches the Avro schema of an unknown id (a schema registry); absent: the local table's ids only. */
  lookup?: (id: number) => Promise<avro.Schema | undefined>;
  /** Registry ids known to hold a local schema version (id → version), resolved at start: no lookup for them. */
  knownIds?: ReadonlyMap<number, number>;
}

export class WriterSchemas {
  private readonly writers = new Map<number, avro.Type | null>();
  private readonly resolvers = new Map<number, avro.Resolver>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    private readonly subject: SchemaEntry['subject'],
    /** The codec's own schema, and the id it writes under. */
    private readonly own: { type: avro.Type; id: number },
    private readonly options: WriterSchemaOptions,
    /** The writer schema of a looked-up id (the registry's schema, or undefined), or null if another kind's. */
    private readonly classify: (id: number, schema: avro.Schema | undefined) => avro.Type | null,
  ) {
    if (options.lookup === undefined) {
      for (const entry of SCHEMAS) if (entry.subject === subject) this.writers.set(entry.id, typeForId(entry.id));
    }
    for (const [id, version] of options.knownIds ?? []) {
      this.writers.set(id, typeForId(schemaVersion(subject, version).id));
    }
    this.writers.set(own.id, own.type);
  }

  /**
   * Makes the frame's schema id readable: a no-op (undefined, nothing to await) when the id is known, else one
   * lookup per id. A frame that is not a frame is left to the decoder to refuse.
   */
  prepare(frame: Buffer): Promise<void> | undefined {
    if (frame.length < 5 || frame.readUInt8(0) !== 0) return undefined;
    const id = frame.readUInt32BE(1);
    const lookup = this.options.lookup;
    if (this.writers.has(id) || lookup === undefined) return undefined;
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = lookup(id)
        .then((schema) => {
          this.writers.set(id, this.classify(id, schema));
        })
        .finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  /** Whether the frame's schema id is one of this kind (after `prepare`). */
  knows(frame: Buffer): boolean {
    if (frame.length < 5 || frame.readUInt8(0) !== 0) return false;
    const writer = this.writers.get(frame.readUInt32BE(1));
    return writer !== undefined && writer !== null;
  }

  /** The writer schema of `id`: undefined when unknown, null when another kind's. */
  writer(id: number): avro.Type | null | undefined {
    return this.writers.get(id);
  }

  /** The ids of this kind known so far (for error messages). */
  knownIds(): number[] {
    return [...this.writers].filter(([, type]) => type !== null).map(([id]) => id);
  }

  /** Decode `body`, written with `writer` under `id`, into the codec's own schema (resolving when they differ). */
  read(id: number, writer: avro.Type, body: Buffer): unknown {
    if (writer === this.own.type) return this.own.type.fromBuffer(body);
    let resolver = this.resolvers.get(id);
    if (resolver === undefined) {
      resolver = this.own.type.createResolver(writer);
      this.resolvers.set(id, resolver);
    }
    return this.own.type.fromBuffer(body, resolver);
  }
}
