/**
 * The codec of the ops topic's second record kind, `CommentEvent` (`@collab/core` domain/comments.ts,
 * avro/comment-event/*.avsc): a document's comment events live in its ops topic partition beside its ops
 * (docs/comments.md). Encoding uses the newest schema; decoding accepts every registered version and resolves it
 * to the newest. The event's `body` is a union of one record per kind (`Created`, `Replied`, `Edited`,
 * `ThreadChanged`), so avsc reads it wrapped (`{"collab.comments.Created": {...}}`) and this module maps it to and
 * from the domain's `{kind: ...}` bodies. An anchor's `detached` is always written (false or true) and read back as
 * the domain has it: present only when true.
 */
import avro from 'avsc';
import { CollabError, type CommentEvent, type CommentEventBody } from '@collab/core';
import { readFrame, writeFrame } from './framing.js';
import { currentSchema, schemaEntry, schemaVersion, typeForId, type SchemaEntry } from './registry.js';
import { WriterSchemas } from './writer-schemas.js';

const NS = 'collab.comments';
/** The full name every CommentEvent schema version has: how a registry's schema is recognised as one. */
export const COMMENT_EVENT_NAME = `${NS}.CommentEvent`;
const OP_COMMITTED_NAME = 'collab.ops.OpCommitted';

type AvroBody =
  | { [`collab.comments.Created`]: { threadId: string; messageId: string; anchor: AvroAnchor; text: string } }
  | { [`collab.comments.Replied`]: { threadId: string; messageId: string; text: string } }
  | { [`collab.comments.Edited`]: { threadId: string; messageId: string; text: string } }
  | { [`collab.comments.ThreadChanged`]: { threadId: string; kind: 'resolved' | 'reopened' | 'deleted' } };
interface AvroAnchor {
  start: number;
  end: number;
  detached: boolean;
}
interface AvroCommentEvent extends Omit<CommentEvent, 'body'> {
  body: AvroBody;
}

const CURRENT = currentSchema('comment-event');

/** The schema id comment events are framed with without a registry (the local table's, registry.ts). */
export const COMMENT_EVENT_SCHEMA_ID = CURRENT.id;

function toAvroBody(body: CommentEventBody): AvroBody {
  switch (body.kind) {
    case 'created': {
      const { start, end, detached } = body.anchor;
      return {
        [`${NS}.Created`]: {
          threadId: body.threadId,
          messageId: body.messageId,
          anchor: { start, end, detached: detached === true },
          text: body.text,
        },
      } as AvroBody;
    }
    case 'replied':
    case 'edited':
      return {
        [`${NS}.${body.kind === 'replied' ? 'Replied' : 'Edited'}`]: {
          threadId: body.threadId,
          messageId: body.messageId,
          text: body.text,
        },
      } as AvroBody;
    case 'resolved':
    case 'reopened':
    case 'deleted':
      return { [`${NS}.ThreadChanged`]: { threadId: body.threadId, kind: body.kind } } as AvroBody;
    default:
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `CommentEvent body of unknown kind ${JSON.stringify((body as { kind?: unknown }).kind)}`,
      );
  }
}

function fromAvroBody(body: AvroBody): CommentEventBody {
  if ('collab.comments.Created' in body) {
    const b = body['collab.comments.Created'];
    const anchor = b.anchor.detached
      ? { start: b.anchor.start, end: b.anchor.end, detached: true }
      : { start: b.anchor.start, end: b.anchor.end };
    return { kind: 'created', threadId: b.threadId, messageId: b.messageId, anchor, text: b.text };
  }
  if ('collab.comments.Replied' in body) {
    const b = body['collab.comments.Replied'];
    return { kind: 'replied', threadId: b.threadId, messageId: b.messageId, text: b.text };
  }
  if ('collab.comments.Edited' in body) {
    const b = body['collab.comments.Edited'];
    return { kind: 'edited', threadId: b.threadId, messageId: b.messageId, text: b.text };
  }
  if ('collab.comments.ThreadChanged' in body) {
    const b = body['collab.comments.ThreadChanged'];
    return { kind: b.kind, threadId: b.threadId };
  }
  throw new CollabError('ERR_CORRUPT', `CommentEvent body of unknown kind: ${Object.keys(body).join(', ')}`);
}

export interface CommentEventCodecOptions {
  /** The comment-event schema version to write and read into; default the newest. */
  schemaVersion?: number;
  /** Fetches the Avro schema of an unknown id (a schema registry); see OpCommittedCodecOptions.lookup. */
  lookup?: (id: number) => Promise<avro.Schema | undefined>;
  /** Registry ids known at start to hold a local comment-event version (id → version). */
  knownIds?: ReadonlyMap<number, number>;
}

/**
 * The registry's schema when it is a CommentEvent; none when the registry names it an OpCommitted; else the local
 * table's comment-event schema of that id (frames written before a registry was configured), else none.
 */
function writerFor(id: number, schema: avro.Schema | undefined): avro.Type | null {
  if (schema !== undefined) {
    const type = avro.Type.forSchema(schema, { wrapUnions: true });
    if (type.name === COMMENT_EVENT_NAME) return type;
    if (type.name === OP_COMMITTED_NAME) return null;
  }
  const local = schemaEntry(id);
  return local?.subject === 'comment-event' ? typeForId(id) : null;
}

/**
 * Encodes comment events under one schema id and decodes the frames whose id it knows as a CommentEvent schema.
 * `knows(frame)` tells a reader of the mixed topic which codec a frame is for (after `prepare`).
 */
export class CommentEventCodec {
  readonly schema: SchemaEntry;
  private readonly type: avro.Type;
  private readonly writers: WriterSchemas;

  constructor(
    readonly writerSchemaId: number,
    options: CommentEventCodecOptions = {},
  ) {
    this.schema = options.schemaVersion === undefined ? CURRENT : schemaVersion('comment-event', options.schemaVersion);
    this.type = typeForId(this.schema.id);
    this.writers = new WriterSchemas('comment-event', { type: this.type, id: writerSchemaId }, options, writerFor);
  }

  encode(value: CommentEvent): Buffer {
    const record: AvroCommentEvent = {
      docId: value.docId,
      version: value.version,
      userId: value.userId,
      timestamp: value.timestamp,
      body: toAvroBody(value.body),
    };
    const errors: string[] = [];
    if (!this.type.isValid(record, { errorHook: (path) => errors.push(path.join('.') || '(record)') })) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `CommentEvent does not fit schema ${this.schema.file}: bad field(s) ${errors.join(', ')}`,
      );
    }
    return writeFrame(this.writerSchemaId, this.type.toBuffer(record));
  }

  /** Makes `decode(frame)` able to read the frame's schema id (WriterSchemas.prepare). */
  prepare(frame: Buffer): Promise<void> | undefined {
    return this.writers.prepare(frame);
  }

  /** Whether the frame's schema id is a CommentEvent schema this codec reads (call `prepare` first). */
  knows(frame: Buffer): boolean {
    return this.writers.knows(frame);
  }

  /** Throws ERR_CORRUPT for a bad frame, an id that is no CommentEvent schema, or bytes that do not decode. */
  decode(frame: Buffer): CommentEvent {
    const { schemaId, body } = readFrame(frame);
    const writer = this.writers.writer(schemaId);
    if (writer === undefined || writer === null) {
      throw new CollabError('ERR_CORRUPT', `Avro schema id ${schemaId} is not a known CommentEvent schema`);
    }
    let record: AvroCommentEvent;
    try {
      record = this.writers.read(schemaId, writer, body) as AvroCommentEvent;
    } catch (err) {
      throw new CollabError(
        'ERR_CORRUPT',
        `CommentEvent frame with schema id ${schemaId} does not decode: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      docId: record.docId,
      version: record.version,
      userId: record.userId,
      timestamp: record.timestamp,
      body: fromAvroBody(record.body),
    };
  }
}

/** A codec without a registry for one schema version (default the newest). */
export function localCommentEventCodecFor(version?: number): CommentEventCodec {
  const entry = version === undefined ? CURRENT : schemaVersion('comment-event', version);
  return new CommentEventCodec(entry.id, { schemaVersion: entry.version });
}

export const localCommentEventCodec = localCommentEventCodecFor();

export function encodeCommentEvent(value: CommentEvent): Buffer {
  return localCommentEventCodec.encode(value);
}

export function decodeCommentEvent(frame: Buffer): CommentEvent {
  return localCommentEventCodec.decode(frame);
}
