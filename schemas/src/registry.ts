/**
 * The local schema registry: every schema version that was ever written to a topic, by id. Ids are global (not
 * per subject), never reused and never edited: a changed schema is a new file and a new id, and the old file
 * stays forever because the ops topic is retained forever and data teams replay it from offset 0.
 *
 * The schema files are the source of truth (they are what data teams read); this table only maps ids to them.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { CollabError } from '@collab/core';

export interface SchemaEntry {
  /** The id written in every frame (see framing.ts). */
  id: number;
  /** What the schema describes; one subject per record type. */
  subject: 'op-committed' | 'comment-event';
  /** 1, 2, ... within the subject. */
  version: number;
  /** Path of the .avsc file relative to the schemas package root. */
  file: string;
}

export const SCHEMAS: readonly SchemaEntry[] = [
  { id: 1, subject: 'op-committed', version: 1, file: 'avro/op-committed/v1.avsc' },
  { id: 2, subject: 'op-committed', version: 2, file: 'avro/op-committed/v2.avsc' },
  { id: 3, subject: 'comment-event', version: 1, file: 'avro/comment-event/v1.avsc' },
];

// The package's folder: this module runs as src/*.ts (tsx) or as the build's dist/src/*.js (plain node).
const packageRoot = new URL(import.meta.url.includes('/dist/src/') ? '../../' : '../', import.meta.url);

export function schemaEntry(id: number): SchemaEntry | undefined {
  return SCHEMAS.find((entry) => entry.id === id);
}

/** The newest version of a subject: what we write today, and the reader schema everything resolves to. */
export function currentSchema(subject: SchemaEntry['subject']): SchemaEntry {
  const entries = SCHEMAS.filter((entry) => entry.subject === subject);
  const newest = entries.reduce<SchemaEntry | undefined>(
    (a, b) => (a === undefined || b.version > a.version ? b : a),
    undefined,
  );
  if (newest === undefined) throw new Error(`no schema registered for subject ${subject}`);
  return newest;
}

/** The versions a subject has, oldest first. */
export const schemaVersions = (subject: SchemaEntry['subject']): number[] =>
  SCHEMAS.filter((e) => e.subject === subject).map((e) => e.version);

/** One version of a subject; throws naming the versions there are when it does not exist. */
export function schemaVersion(subject: SchemaEntry['subject'], version: number): SchemaEntry {
  const entry = SCHEMAS.find((e) => e.subject === subject && e.version === version);
  if (entry === undefined) {
    throw new Error(`${subject} has no schema version ${version} (versions: ${schemaVersions(subject).join(', ')})`);
  }
  return entry;
}

export function readSchemaFile(entry: SchemaEntry): avro.Schema {
  return JSON.parse(readFileSync(new URL(entry.file, packageRoot), 'utf8')) as avro.Schema;
}

const types = new Map<number, avro.Type>();

/**
 * How avsc represents a subject's unions. OpCommitted's are unwrapped (a skip is a plain number, an insert a plain
 * string): their branches are of distinct JavaScript kinds. CommentEvent's `body` is a union of records, which only
 * a wrapped union can tell apart (`{"collab.comments.Created": {...}}`).
 */
export const wrapUnionsOf = (subject: SchemaEntry['subject']): boolean => subject === 'comment-event';

/** The parsed avsc Type of a schema id (unions per `wrapUnionsOf`). */
export function typeForId(id: number): avro.Type {
  let type = types.get(id);
  if (type === undefined) {
    const entry = schemaEntry(id);
    if (entry === undefined) {
      const known = SCHEMAS.map((e) => e.id).join(', ');
      throw new CollabError('ERR_CORRUPT', `unknown Avro schema id ${id} (known ids: ${known})`);
    }
    type = avro.Type.forSchema(readSchemaFile(entry), { wrapUnions: wrapUnionsOf(entry.subject) });
    types.set(id, type);
  }
  return type;
}
