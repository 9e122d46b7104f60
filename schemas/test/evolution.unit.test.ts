/**
 * OpCommitted v1 → v2, both ways, on the committed golden bytes: a v1 reader (the code before v2, which reads
 * through the registry's v2 schema by Avro resolution) decodes every v2 fixture to the same record, today's reader
 * decodes every v1 fixture, and the v1 writer still writes exactly the v1 bytes. Then what v2 adds: both forms of
 * the op in every record, `components` preferred, a record whose forms disagree refused; and seeded round trips of
 * random ops through every writer/reader pair (FUZZ_SEED=<n> replays a run; the seed is in every failure).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { isCollabError, seededRandom, type OpCommitted } from '@collab/core';
import type { TextOp, TextOpComponent } from '@collab/ot-text';
import {
  decodeOpCommitted,
  fromOpComponents,
  localOpCommittedCodecFor,
  readFrame,
  readSchemaFile,
  schemaEntry,
  SCHEMAS,
  typeForId,
  writeFrame,
  type AvroOpComponent,
} from '../src/index.js';
import { OP_COMMITTED_SAMPLES } from './support/op-committed-samples.js';

const fixtures = (version: number) => {
  const dir = new URL(`./fixtures/op-committed/v${version}/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => ({
      name: f.slice(0, -'.hex'.length),
      frame: Buffer.from(readFileSync(new URL(f, dir), 'utf8').trim(), 'hex'),
      expected: JSON.parse(readFileSync(new URL(f.replace(/\.hex$/, '.json'), dir), 'utf8')) as OpCommitted,
    }));
};

const v1 = localOpCommittedCodecFor(1);
const v2 = localOpCommittedCodecFor(2);

const assertCorrupt = (err: unknown): boolean => {
  assert.ok(isCollabError(err), `expected a CollabError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_CORRUPT', err.message);
  return true;
};

describe('OpCommitted v1 ↔ v2 (golden bytes, both ways)', () => {
  it('the v2 fixtures are framed with schema id 2, the v1 fixtures with id 1', () => {
    for (const s of fixtures(2)) assert.equal(readFrame(s.frame).schemaId, 2, s.name);
    for (const s of fixtures(1)) assert.equal(readFrame(s.frame).schemaId, 1, s.name);
  });

  for (const s of fixtures(2)) {
    it(`a v1 reader decodes the v2 bytes of "${s.name}" to the same record (it reads \`op\`)`, () => {
      assert.equal(v1.schema.version, 1);
      assert.deepEqual(v1.decode(s.frame), s.expected);
    });

    it(`"${s.name}" v2 bytes carry the op twice, as \`op\` and as \`components\`, in agreement`, () => {
      const raw = typeForId(2).fromBuffer(readFrame(s.frame).body) as { op: unknown[]; components: unknown[] };
      assert.equal(raw.components.length, raw.op.length);
      assert.deepEqual(decodeOpCommitted(s.frame).op, s.expected.op);
    });
  }

  for (const s of fixtures(1)) {
    it(`today's (v2) reader decodes the v1 bytes of "${s.name}" (no \`components\`: it reads \`op\`)`, () => {
      assert.deepEqual(v2.decode(s.frame), s.expected);
      // What Avro resolution gives a v2 reader for a v1 record: the default, no components.
      const raw = typeForId(2).fromBuffer(readFrame(s.frame).body, typeForId(2).createResolver(typeForId(1))) as {
        components: unknown[];
      };
      assert.deepEqual(raw.components, []);
    });

    it(`the v1 writer still writes exactly the committed v1 bytes of "${s.name}"`, () => {
      assert.equal(v1.encode(s.expected).toString('hex'), s.frame.toString('hex'));
    });
  }

  it('components of every kind, as a v2 record holds them (counts in code points)', () => {
    const value = OP_COMMITTED_SAMPLES['emoji-and-delete-text']!;
    const raw = typeForId(2).fromBuffer(readFrame(v2.encode(value)).body) as { components: AvroOpComponent[] };
    assert.deepEqual(
      raw.components.map((c) => ({ ...c })),
      [
        { kind: 'retain', count: 3, text: null },
        { kind: 'insert', count: 9, text: '👋🏽 héllo ' },
        { kind: 'delete', count: 3, text: '👍🏿x' },
        { kind: 'retain', count: 2, text: null },
        { kind: 'delete', count: 1, text: null },
      ],
    );
  });
});

describe('OpCommitted v2: the two forms of the op', () => {
  const base = OP_COMMITTED_SAMPLES['skip-delete-insert']!;
  const v2Type = typeForId(2);
  /** A v2 frame with these raw forms (what a buggy or hostile writer could put on the topic). */
  const frameOf = (op: unknown[], components: AvroOpComponent[]): Buffer =>
    writeFrame(2, v2Type.toBuffer({ ...base, op, components }));

  it('prefers `components` when it has any, and falls back to `op` when it is empty', () => {
    const components: AvroOpComponent[] = [{ kind: 'insert', count: 2, text: 'hé' }];
    assert.deepEqual(decodeOpCommitted(frameOf(['hé'], components)).op, ['hé']);
    assert.deepEqual(decodeOpCommitted(frameOf(['hé'], [])).op, ['hé']);
  });

  const disagreements: Record<string, [unknown[], AvroOpComponent[]]> = {
    'another insert': [['abc'], [{ kind: 'insert', count: 3, text: 'abd' }]],
    'another skip': [
      [2, 'x'],
      [
        { kind: 'retain', count: 3, text: null },
        { kind: 'insert', count: 1, text: 'x' },
      ],
    ],
    'a delete with text against one without': [[{ count: 2, text: 'ab' }], [{ kind: 'delete', count: 2, text: null }]],
    'an empty op against components': [[], [{ kind: 'retain', count: 1, text: null }]],
    'one component more': [
      [1],
      [
        { kind: 'retain', count: 1, text: null },
        { kind: 'insert', count: 1, text: 'x' },
      ],
    ],
  };
  for (const [name, [op, components]] of Object.entries(disagreements)) {
    it(`refuses a record whose forms disagree: ${name} (ERR_CORRUPT)`, () => {
      assert.throws(() => decodeOpCommitted(frameOf(op, components)), assertCorrupt);
    });
  }

  const impossible: Record<string, AvroOpComponent> = {
    'a retain with text': { kind: 'retain', count: 1, text: 'a' },
    'an insert without text': { kind: 'insert', count: 1, text: null },
    'an insert whose count is not its length in code points': { kind: 'insert', count: 2, text: '👍' },
    'a delete whose count disagrees with its text': { kind: 'delete', count: 1, text: 'ab' },
    'a zero count': { kind: 'retain', count: 0, text: null },
  };
  for (const [name, component] of Object.entries(impossible)) {
    it(`refuses ${name} (ERR_CORRUPT)`, () => {
      assert.throws(() => decodeOpCommitted(frameOf(['x'], [component])), assertCorrupt);
    });
  }
});

/** Random ops of every component kind, astral-plane and combining text, counts past 32 bits now and then. */
function randomOp(random: () => number): TextOp {
  const alphabet = ['a', 'é', 'e\u0301', '漢', '😀', '👍🏽', '🏳️‍🌈', ' ', '\n'];
  const text = () =>
    Array.from({ length: 1 + Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(
      '',
    );
  const count = () => (random() < 0.1 ? 2 ** 33 + Math.floor(random() * 1000) : 1 + Math.floor(random() * 20));
  return Array.from({ length: Math.floor(random() * 8) }, (): TextOpComponent => {
    const r = random();
    if (r < 0.3) return count();
    if (r < 0.6) return text();
    return r < 0.8 ? { d: count() } : { d: text() };
  });
}

describe('OpCommitted round trips of random ops through every writer/reader pair (seeded)', () => {
  const fromEnv = Number(process.env['FUZZ_SEED']);
  const seed = Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;

  it(`v1→v1, v1→v2, v2→v1, v2→v2 give back the op (FUZZ_SEED=${seed})`, () => {
    const random = seededRandom(seed);
    const sample = OP_COMMITTED_SAMPLES['first-insert']!;
    for (let i = 0; i < 500; i++) {
      const value: OpCommitted = { ...sample, version: i + 1, op: randomOp(random) };
      for (const [writer, reader, pair] of [
        [v1, v1, 'v1→v1'],
        [v1, v2, 'v1→v2'],
        [v2, v1, 'v2→v1'],
        [v2, v2, 'v2→v2'],
      ] as const) {
        try {
          assert.deepEqual(reader.decode(writer.encode(value)), value);
        } catch (err) {
          throw new Error(`[FUZZ_SEED=${seed}] case ${i}, ${pair}, op ${JSON.stringify(value.op)}: ${String(err)}`, {
            cause: err,
          });
        }
      }
    }
  });
});

describe('every pair of OpCommitted versions resolves both ways by Avro rules (avsc)', () => {
  // The registry's own check (scripts/check-compatibility.sh) is the authority, but Apicurio 2.0.2 accepts a
  // union branch added inside the array, which Avro's rules (and every v1 reader) refuse: this catches that too.
  const versions = SCHEMAS.filter((e) => e.subject === 'op-committed');
  const typeOf = (id: number) => avro.Type.forSchema(readSchemaFile(schemaEntry(id)!), { wrapUnions: true });
  for (const a of versions) {
    for (const b of versions) {
      if (a.version >= b.version) continue;
      it(`v${a.version} reads v${b.version} data and v${b.version} reads v${a.version} data`, () => {
        assert.doesNotThrow(() => typeOf(a.id).createResolver(typeOf(b.id)));
        assert.doesNotThrow(() => typeOf(b.id).createResolver(typeOf(a.id)));
      });
    }
  }
});

describe('the components projection (schemas/projections/op-committed-components.avsc)', () => {
  const projection = JSON.parse(
    readFileSync(new URL('../projections/op-committed-components.avsc', import.meta.url), 'utf8'),
  ) as avro.Schema;

  /** Every union in a schema, as the list of its branch type names. */
  function unions(schema: unknown, found: string[][] = []): string[][] {
    if (Array.isArray(schema)) {
      found.push(schema.map((b) => (typeof b === 'string' ? b : String((b as { type: unknown }).type))));
      for (const branch of schema) unions(branch, found);
    } else if (typeof schema === 'object' && schema !== null) {
      const s = schema as { type?: unknown; items?: unknown; values?: unknown; fields?: { type: unknown }[] };
      if (s.fields !== undefined) for (const f of s.fields) unions(f.type, found);
      if (s.items !== undefined) unions(s.items, found);
      if (s.values !== undefined) unions(s.values, found);
      if (typeof s.type === 'object') unions(s.type, found);
    }
    return found;
  }

  it('has no union but the optional ["null", T], and is v2 without `op`', () => {
    for (const branches of unions(projection)) {
      assert.ok(branches.length === 2 && branches[0] === 'null', `a union ${JSON.stringify(branches)}`);
    }
    const v2Fields = (readSchemaFile(schemaEntry(2)!) as { fields: { name: string }[] }).fields.map((f) => f.name);
    const fields = (projection as { fields: { name: string }[] }).fields.map((f) => f.name);
    assert.deepEqual(
      fields,
      v2Fields.filter((name) => name !== 'op'),
    );
    // What the projection removes: v1's union of long, string and Delete.
    assert.ok(unions(readSchemaFile(schemaEntry(2)!)).some((b) => b.includes('long') && b.includes('string')));
  });

  for (const s of [...fixtures(1), ...fixtures(2)]) {
    const version = readFrame(s.frame).schemaId;
    it(`reads the v${version} bytes of "${s.name}": ${version === 1 ? 'no components (v1 has only `op`)' : 'the op, from components'}`, () => {
      const reader = avro.Type.forSchema(projection, { wrapUnions: false });
      const record = reader.fromBuffer(readFrame(s.frame).body, reader.createResolver(typeForId(version))) as {
        components: AvroOpComponent[];
      };
      assert.deepEqual(
        version === 1 ? record.components : fromOpComponents(record.components),
        version === 1 ? [] : s.expected.op,
      );
    });
  }
});
