/**
 * Golden fixtures: the encoded bytes of sample records for every schema version ever registered, committed under
 * test/fixtures/<subject>/v<N>/. The ops topic is retained forever, so every one of them must still decode with
 * today's code to today's record. When a v2 is added, the v1 bytes stay and keep being checked here; only the
 * .json expectations change if the reader adds fields (with defaults).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  currentSchema,
  decodeCommentEvent,
  decodeLogValue,
  decodeOpCommitted,
  encodeCommentEvent,
  encodeOpCommitted,
  readSchemaFile,
  SCHEMAS,
  wrapUnionsOf,
} from '../src/index.js';
import avro from 'avsc';

const fixtures = new URL('./fixtures/', import.meta.url);
const samplesOf = (subject: string, version: number) => {
  const dir = new URL(`${subject}/v${version}/`, fixtures);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => {
      const name = f.slice(0, -'.hex'.length);
      return {
        name,
        frame: Buffer.from(readFileSync(new URL(f, dir), 'utf8').trim(), 'hex'),
        expected: JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as unknown,
      };
    });
};

describe('golden fixtures', () => {
  it('every .avsc file is registered, and every registered schema parses', () => {
    const onDisk = readdirSync(new URL('../avro/', import.meta.url), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.avsc'))
      .map((f) => `avro/${f.replaceAll('\\', '/')}`)
      .sort();
    assert.deepEqual(SCHEMAS.map((e) => e.file).sort(), onDisk);
    for (const entry of SCHEMAS) {
      avro.Type.forSchema(readSchemaFile(entry), { wrapUnions: wrapUnionsOf(entry.subject) });
    }
  });

  it('schema ids are unique', () => {
    assert.equal(new Set(SCHEMAS.map((e) => e.id)).size, SCHEMAS.length);
  });

  const codecs = {
    'op-committed': { decode: decodeOpCommitted, encode: encodeOpCommitted },
    'comment-event': { decode: decodeCommentEvent, encode: encodeCommentEvent },
  } as const;

  for (const entry of SCHEMAS) {
    const { decode, encode } = codecs[entry.subject];
    describe(`${entry.subject} v${entry.version} (schema id ${entry.id})`, () => {
      const samples = samplesOf(entry.subject, entry.version);

      it('has fixtures written with that schema id', () => {
        assert.ok(samples.length >= 3, `expected fixtures in test/fixtures/${entry.subject}/v${entry.version}`);
        for (const s of samples) assert.equal(s.frame.readUInt32BE(1), entry.id, s.name);
      });

      for (const s of samples) {
        it(`"${s.name}" still decodes with today's reader`, () => {
          assert.deepEqual(decode(s.frame), s.expected);
        });

        it(`"${s.name}" decodes to the same record through the ops topic's codec (dispatch on the schema id)`, () => {
          assert.deepEqual(decodeLogValue(s.frame), s.expected);
        });
      }

      if (entry.id === currentSchema(entry.subject).id) {
        // Catches an in-place edit of the current .avsc: the bytes written today must be the committed ones.
        // Changing a schema means a new file and a new id, never editing the old one.
        for (const s of samples) {
          it(`"${s.name}" encodes today to exactly the committed bytes`, () => {
            assert.equal(encode(s.expected as never).toString('hex'), s.frame.toString('hex'));
          });
        }
      }
    });
  }
});
