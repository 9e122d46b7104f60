/**
 * The OpCommitted codec backed by a Confluent-compatible schema registry, so that the standard Kafka tools read
 * the ops topic (their deserializers look the frame's id up in the registry).
 *
 * At start, once: the current schema is registered under the TopicNameStrategy subject `<topic>-value`, the
 * subject's compatibility is set to FULL_TRANSITIVE, and the id the registry assigns is what every record is
 * framed with — no request per append. The id is also written to an optional cache file, so a restart while the
 * registry is down still writes the same id; with the registry unreachable and nothing cached, start-up fails
 * naming the registry URL. The registry's ids of the older schema versions under the subject (records written
 * before an upgrade) are looked up at start too, without registering them, and cached the same way. Readers
 * decode by the frame's id: an id the codec does not know is fetched from the registry once; an id the registry
 * does not resolve to an OpCommitted schema falls back to the local table (records written before the registry
 * was configured carry the local ids).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type avro from 'avsc';
import { CollabError } from '@collab/core';
import { COMMENT_EVENT_NAME, CommentEventCodec } from './comment-event.js';
import { LogValueCodec } from './log-value.js';
import { OpCommittedCodec } from './op-committed.js';
import { SCHEMAS, currentSchema, readSchemaFile, schemaVersion, type SchemaEntry } from './registry.js';
import { SchemaRegistryClient } from './schema-registry-client.js';

export interface RegistryCodecOptions {
  /** The registry's Confluent API root (COLLAB_SCHEMA_REGISTRY_URL). */
  url: string;
  /** The ops topic; the subject is `<topic>-value`. */
  topic: string;
  /** A JSON file remembering the assigned id per registry, subject and schema (optional). */
  idCachePath?: string;
  timeoutMs?: number;
}

/** The TopicNameStrategy subject of a topic's record values. */
export const valueSubject = (topic: string): string => `${topic}-value`;

/** The current OpCommitted schema as registered (compact JSON of the .avsc file). */
export function currentOpCommittedSchemaText(): string {
  return JSON.stringify(readSchemaFile(currentSchema('op-committed')));
}

/** One OpCommitted schema version as registered (compact JSON of its .avsc file). */
export function opCommittedSchemaText(version: number): string {
  return JSON.stringify(readSchemaFile(schemaVersion('op-committed', version)));
}

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The registry subject of comment events: TopicRecordNameStrategy's `<topic>-<record full name>`. The topic's
 * TopicNameStrategy subject `<topic>-value` holds OpCommitted under FULL_TRANSITIVE, where a second record type
 * can never be compatible (schemas/README.md, "Two record kinds on one topic").
 */
export const commentEventSubject = (topic: string): string => `${topic}-${COMMENT_EVENT_NAME}`;

/** One comment-event schema version as registered (compact JSON of its .avsc file). */
export function commentEventSchemaText(version?: number): string {
  return JSON.stringify(
    readSchemaFile(version === undefined ? currentSchema('comment-event') : schemaVersion('comment-event', version)),
  );
}

export async function createRegistryOpCommittedCodec(options: RegistryCodecOptions): Promise<OpCommittedCodec> {
  const client = clientOf(options);
  const { id, knownIds } = await resolveSubject(client, 'op-committed', valueSubject(options.topic), options);
  return new OpCommittedCodec(id, { lookup: lookupIn(client), knownIds });
}

/**
 * The codec of the whole ops topic with a registry: OpCommitted under `<topic>-value` (as before comment events),
 * CommentEvent under `<topic>-collab.comments.CommentEvent`, both registered at start and FULL_TRANSITIVE. An id
 * neither knows is fetched once, for both codecs.
 */
export async function createRegistryLogValueCodec(options: RegistryCodecOptions): Promise<LogValueCodec> {
  const client = clientOf(options);
  const ops = await resolveSubject(client, 'op-committed', valueSubject(options.topic), options);
  const comments = await resolveSubject(client, 'comment-event', commentEventSubject(options.topic), options);
  const fetched = new Map<number, Promise<avro.Schema | undefined>>();
  const uncached = lookupIn(client);
  const lookup = (id: number): Promise<avro.Schema | undefined> => {
    let schema = fetched.get(id);
    if (schema === undefined) {
      schema = uncached(id);
      fetched.set(id, schema);
      schema.catch(() => fetched.delete(id)); // unreachable: ask again next time
    }
    return schema;
  };
  return new LogValueCodec(
    new OpCommittedCodec(ops.id, { lookup, knownIds: ops.knownIds }),
    new CommentEventCodec(comments.id, { lookup, knownIds: comments.knownIds }),
  );
}

function clientOf(options: RegistryCodecOptions): SchemaRegistryClient {
  return new SchemaRegistryClient({
    url: options.url,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** The registry's schema of an id; undefined when it has none (or it is no Avro schema); unreachable: throws. */
function lookupIn(client: SchemaRegistryClient): (id: number) => Promise<avro.Schema | undefined> {
  return async (unknownId) => {
    try {
      return JSON.parse(await client.schemaById(unknownId)) as avro.Schema;
    } catch (err) {
      // No such id, or not an Avro schema: the codec falls back to the local table. Unreachable: the error stands.
      if (err instanceof CollabError && (err.code === 'ERR_NOT_FOUND' || err.code === 'ERR_CORRUPT')) return undefined;
      throw err;
    }
  };
}

const schemaTextOf = (entry: SchemaEntry): string => JSON.stringify(readSchemaFile(entry));

/**
 * Registers the subject's current schema (the id every record of that kind is framed with), makes the subject
 * FULL_TRANSITIVE, and looks up the ids of its older versions.
 */
async function resolveSubject(
  client: SchemaRegistryClient,
  kind: SchemaEntry['subject'],
  subject: string,
  options: RegistryCodecOptions,
): Promise<{ id: number; knownIds: Map<number, number> }> {
  const schema = schemaTextOf(currentSchema(kind));
  const cacheKey = `${client.url} ${subject} ${hashOf(schema)}`;
  let id: number;
  try {
    id = await registerRacing(() => client.register(subject, schema));
    await ensureFullTransitive(client, subject);
    if (options.idCachePath !== undefined) writeCachedId(options.idCachePath, cacheKey, id);
  } catch (err) {
    const cached = options.idCachePath === undefined ? undefined : readCachedId(options.idCachePath, cacheKey);
    if (!(err instanceof CollabError && err.code === 'ERR_UNAVAILABLE') || cached === undefined) {
      throw new CollabError(
        err instanceof CollabError ? err.code : 'ERR_UNAVAILABLE',
        `cannot resolve the schema id of ${subject} in the schema registry ${client.url} ` +
          `(COLLAB_SCHEMA_REGISTRY_URL)${options.idCachePath === undefined ? '' : ` and no id is cached in ${options.idCachePath}`}: ` +
          (err as Error).message,
        { cause: err },
      );
    }
    id = cached;
  }
  const knownIds = await olderVersionIds(client, kind, subject, options.idCachePath);
  return { id, knownIds };
}

/**
 * The registry's ids of the older versions registered under the subject (id → version): the records
 * written before an upgrade carry them, and knowing them at start keeps those records readable without the
 * registry. Looked up, never registered (a new deployment's subject starts at the current version). Best effort:
 * a version the registry does not answer for comes from the cache, else is looked up by id when a record has it.
 */
async function olderVersionIds(
  client: SchemaRegistryClient,
  kind: SchemaEntry['subject'],
  subject: string,
  idCachePath: string | undefined,
): Promise<Map<number, number>> {
  const current = currentSchema(kind);
  const older = SCHEMAS.filter((e) => e.subject === kind && e.version < current.version);
  const ids = new Map<number, number>();
  for (const entry of older) {
    const text = schemaTextOf(entry);
    const key = `${client.url} ${subject} ${hashOf(text)}`;
    let id: number | undefined;
    try {
      id = await client.lookup(subject, text);
      if (id !== undefined && idCachePath !== undefined) writeCachedId(idCachePath, key, id);
    } catch {
      id = idCachePath === undefined ? undefined : readCachedId(idCachePath, key);
    }
    if (id !== undefined) ids.set(id, entry.version);
  }
  return ids;
}

/**
 * After the first version: some registries (Apicurio 2.0) refuse a config for a subject without versions. Several
 * processes start at once (two command-services, the projection and snapshot services): on Apicurio 2.0 the
 * second concurrent PUT of the same config answers 409, so a 409 is fine when the level is then FULL_TRANSITIVE.
 */
async function ensureFullTransitive(client: SchemaRegistryClient, subject: string): Promise<void> {
  if ((await client.compatibility(subject).catch(() => '')) === 'FULL_TRANSITIVE') return;
  try {
    await client.setCompatibility(subject, 'FULL_TRANSITIVE');
  } catch (err) {
    if (!(err instanceof CollabError && err.code === 'ERR_CONFLICT')) throw err;
    const level = await client.compatibility(subject);
    if (level !== 'FULL_TRANSITIVE') {
      throw new CollabError('ERR_CONFLICT', `${subject}: compatibility is ${level}, FULL_TRANSITIVE could not be set`, {
        cause: err,
      });
    }
  }
}

function readCache(path: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function readCachedId(path: string, key: string): number | undefined {
  const id = readCache(path)[key];
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : undefined;
}

/** Written to a temporary file and renamed: a crash never leaves half a cache. */
function writeCachedId(path: string, key: string, id: number): void {
  const cache = readCache(path);
  if (cache[key] === id) return;
  cache[key] = id;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(cache, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/**
 * Processes of one deployment starting at once race to create the subject and its content: Apicurio 2.0 answers
 * the losers 409, or 500 with a unique-index violation on the content hash (seen in CI: both services of a stack
 * refused to start). Trying again a moment later finds what the winner created. An incompatible schema answers
 * 409 every time, and an unreachable registry fails every time: after the last try the error stands.
 */
async function registerRacing(register: () => Promise<number>, tries = 4): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await register();
    } catch (err) {
      const racing = err instanceof CollabError && (err.code === 'ERR_CONFLICT' || err.code === 'ERR_UNAVAILABLE');
      if (!racing || attempt >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
