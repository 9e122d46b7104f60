/**
 * The comment-event schema and the ops topic's codec of both record kinds: every sample and seeded random events
 * round-trip; a reader of ops only (an OpCommitted codec, v1 or v2) refuses a comment-event frame as ERR_CORRUPT
 * rather than misreading it (so a consumer that wants ops must skip by kind, never decode blindly); the LogValue
 * codec dispatches on the schema id, with local ids and with a registry's; and the evolution rules the README
 * states for comment-event hold under Avro resolution (a field with a default resolves both ways; a new enum
 * symbol or body kind is unreadable by v1 readers). FUZZ_SEED=<n> replays a random run.
 */
import assert from 'node:assert/strict';
import avro from 'avsc';
import { isCollabError, seededRandom, type CommentEvent, type CommentEventBody } from '@collab/core';
import {
  COMMENT_EVENT_SCHEMA_ID,
  CommentEventCodec,
  LogValueCodec,
  OpCommittedCodec,
  decodeCommentEvent,
  decodeLogValue,
  encodeCommentEvent,
  encodeLogValue,
  encodeOpCommitted,
  localOpCommittedCodecFor,
  readFrame,
  readSchemaFile,
  schemaVersion,
  writeFrame,
} from '../src/index.js';
import { COMMENT_EVENT_SAMPLES } from './support/comment-event-samples.js';
import { OP_COMMITTED_SAMPLES } from './support/op-committed-samples.js';

const isCode = (code: string) => (err: unknown) => {
  assert.ok(isCollabError(err), `expected a CollabError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

const v1Schema = readSchemaFile(schemaVersion('comment-event', 1)) as avro.schema.RecordType;
const typeOf = (schema: avro.Schema) => avro.Type.forSchema(schema, { wrapUnions: true });
const canRead = (reader: avro.Schema, writer: avro.Schema): boolean => {
  try {
    typeOf(reader).createResolver(typeOf(writer));
    return true;
  } catch {
    return false;
  }
};

describe('comment-event (Avro)', () => {
  for (const [name, event] of Object.entries(COMMENT_EVENT_SAMPLES)) {
    it(`"${name}" round-trips, framed with the local comment-event id ${COMMENT_EVENT_SCHEMA_ID}`, () => {
      const frame = encodeCommentEvent(event);
      assert.equal(readFrame(frame).schemaId, COMMENT_EVENT_SCHEMA_ID);
      assert.deepEqual(decodeCommentEvent(frame), event);
      assert.deepEqual(decodeLogValue(encodeLogValue(event)), event);
    });
  }

  const fromEnv = Number(process.env['FUZZ_SEED']);
  const seed = Number.isInteger(fromEnv) && process.env['FUZZ_SEED'] !== '' ? fromEnv : Date.now() % 1_000_000;
  it(`random events round-trip (FUZZ_SEED=${seed})`, () => {
    const random = seededRandom(seed);
    const int = (n: number) => Math.floor(random() * n);
    const text = () => Array.from({ length: 1 + int(12) }, () => ['a', 'é', '👍🏽', ' ', '\n', '字'][int(6)]).join('');
    for (let i = 0; i < 500; i++) {
      const threadId = `t${int(1e9)}`;
      const kinds = ['created', 'replied', 'edited', 'resolved', 'reopened', 'deleted'] as const;
      const kind = kinds[int(kinds.length)]!;
      const start = int(2 ** 40);
      const detached = random() < 0.3;
      const body: CommentEventBody =
        kind === 'created'
          ? {
              kind,
              threadId,
              messageId: `m${i}`,
              anchor: detached ? { start, end: start, detached: true } : { start, end: start + int(1000) },
              text: text(),
            }
          : kind === 'replied' || kind === 'edited'
            ? { kind, threadId, messageId: `m${i}`, text: text() }
            : { kind, threadId };
      const event: CommentEvent = {
        docId: `doc-${int(100)}`,
        version: int(2 ** 50),
        userId: `u${int(10)}`,
        timestamp: 1_764_230_400_000 + int(1e9),
        body,
      };
      try {
        assert.deepEqual(decodeLogValue(encodeLogValue(event)), event);
      } catch (err) {
        throw new Error(`[FUZZ_SEED=${seed}] case ${i}, ${JSON.stringify(event)}: ${String(err)}`, { cause: err });
      }
    }
  });

  it('refuses to encode what the schema cannot hold (ERR_INVALID_ARGUMENT)', () => {
    const created = COMMENT_EVENT_SAMPLES['created']!;
    assert.throws(() => encodeCommentEvent({ ...created, version: 1.5 }), isCode('ERR_INVALID_ARGUMENT'));
    assert.throws(
      () => encodeCommentEvent({ ...created, body: { kind: 'liked', threadId: 't' } as never }),
      isCode('ERR_INVALID_ARGUMENT'),
    );
    assert.throws(
      () => encodeCommentEvent({ ...created, body: { kind: 'replied', threadId: 't' } as never }),
      isCode('ERR_INVALID_ARGUMENT'),
    );
  });

  it('refuses a truncated frame or trailing bytes (ERR_CORRUPT)', () => {
    const frame = encodeCommentEvent(COMMENT_EVENT_SAMPLES['created']!);
    assert.throws(() => decodeCommentEvent(frame.subarray(0, frame.length - 3)), isCode('ERR_CORRUPT'));
    assert.throws(() => decodeCommentEvent(Buffer.concat([frame, Buffer.from([0])])), isCode('ERR_CORRUPT'));
  });

  it('an ops-only reader (the OpCommitted codec, v1 or v2) refuses a comment-event frame: ERR_CORRUPT, never a misread', () => {
    const frame = encodeCommentEvent(COMMENT_EVENT_SAMPLES['resolved']!);
    for (const version of [1, 2]) {
      assert.throws(() => localOpCommittedCodecFor(version).decode(frame), isCode('ERR_CORRUPT'));
    }
    // and the comment-event codec refuses an op
    assert.throws(
      () => decodeCommentEvent(encodeOpCommitted(OP_COMMITTED_SAMPLES['first-insert']!)),
      isCode('ERR_CORRUPT'),
    );
  });

  describe('with a registry: the frame id says which kind', () => {
    const opSchema = readSchemaFile(schemaVersion('op-committed', 2));
    const commentSchema = readSchemaFile(schemaVersion('comment-event', 1));
    const op = OP_COMMITTED_SAMPLES['first-insert']!;
    const event = COMMENT_EVENT_SAMPLES['created']!;
    const opBody = readFrame(encodeOpCommitted(op)).body;
    const eventBody = readFrame(encodeCommentEvent(event)).body;

    function codecWith(schemas: Record<number, avro.Schema>) {
      const calls: number[] = [];
      const lookup = (id: number) => {
        calls.push(id);
        return Promise.resolve(schemas[id]);
      };
      const codec = new LogValueCodec(new OpCommittedCodec(41, { lookup }), new CommentEventCodec(42, { lookup }));
      return { codec, calls };
    }
    async function decode(codec: LogValueCodec, frame: Buffer) {
      await codec.prepare(frame);
      return codec.decode(frame);
    }

    it('writes each kind with its own registry id and reads both back', async () => {
      const { codec, calls } = codecWith({});
      assert.equal(readFrame(codec.encode(op)).schemaId, 41);
      assert.equal(readFrame(codec.encode(event)).schemaId, 42);
      assert.deepEqual(await decode(codec, codec.encode(op)), op);
      assert.deepEqual(await decode(codec, codec.encode(event)), event);
      assert.deepEqual(calls, []);
    });

    it("reads an id by the registry's schema even where the local table has another kind under it", async () => {
      // The registry gave the comment-event schema the global id 1 and op-committed v2 the id 3: locally the reverse.
      const { codec } = codecWith({ 1: commentSchema, 3: opSchema });
      assert.deepEqual(await decode(codec, writeFrame(1, eventBody)), event);
      assert.deepEqual(await decode(codec, writeFrame(3, opBody)), op);
      assert.equal(codec.kindOf(writeFrame(1, eventBody)), 'comment-event');
      assert.equal(codec.kindOf(writeFrame(3, opBody)), 'op-committed');
    });

    it('falls back to the local ids for frames written before the registry, each to its kind', async () => {
      const { codec } = codecWith({});
      assert.deepEqual(await decode(codec, encodeCommentEvent(event)), event);
      assert.deepEqual(await decode(codec, encodeOpCommitted(op)), op);
    });

    it('asks the registry once per unknown id, for both codecs', async () => {
      const schemas: Record<number, avro.Schema> = { 7: commentSchema };
      const calls: number[] = [];
      const fetched = new Map<number, Promise<avro.Schema | undefined>>();
      const lookup = (id: number) => {
        if (!fetched.has(id)) {
          calls.push(id);
          fetched.set(id, Promise.resolve(schemas[id]));
        }
        return fetched.get(id)!;
      };
      const codec = new LogValueCodec(new OpCommittedCodec(41, { lookup }), new CommentEventCodec(42, { lookup }));
      assert.deepEqual(await decode(codec, writeFrame(7, eventBody)), event);
      assert.deepEqual(await decode(codec, writeFrame(7, eventBody)), event);
      assert.deepEqual(calls, [7]);
    });

    it('refuses an id that is neither kind (ERR_CORRUPT)', async () => {
      const { codec } = codecWith({ 99: { type: 'record', name: 'Unrelated', fields: [] } });
      await assert.rejects(async () => decode(codec, writeFrame(99, eventBody)), isCode('ERR_CORRUPT'));
    });
  });

  describe('evolution rules (what schemas/README.md says a comment-event v2 may do)', () => {
    const withField = (field: unknown) => ({ ...v1Schema, fields: [...v1Schema.fields, field] }) as avro.Schema;

    it('a new field with a default resolves both ways', () => {
      const v2 = withField({ name: 'clientId', type: ['null', 'string'], default: null });
      assert.ok(canRead(v2, v1Schema));
      assert.ok(canRead(v1Schema, v2));
    });

    it('a new field without a default cannot read v1 records', () => {
      assert.ok(!canRead(withField({ name: 'clientId', type: 'string' }), v1Schema));
    });

    it('a new body kind (union branch) is unreadable by v1 readers', () => {
      const fields = v1Schema.fields.map((f) =>
        f.name === 'body'
          ? {
              ...f,
              type: [
                ...(f.type as avro.Schema[]),
                { type: 'record', name: 'Reacted', fields: [{ name: 'threadId', type: 'string' }] },
              ],
            }
          : f,
      );
      const v2 = { ...v1Schema, fields } as avro.Schema;
      assert.ok(canRead(v2, v1Schema));
      assert.ok(!canRead(v1Schema, v2));
    });

    it('a new ThreadChange symbol is unreadable by v1 readers (the enum has no default on purpose)', () => {
      const text = JSON.stringify(v1Schema).replace('"deleted"]', '"deleted","archived"]');
      assert.notEqual(text, JSON.stringify(v1Schema));
      assert.ok(!canRead(v1Schema, JSON.parse(text) as avro.Schema));
    });
  });
});
