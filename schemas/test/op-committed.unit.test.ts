/**
 * The OpCommitted codec: round trips (every op component kind, astral-plane text), the exact wire framing, and
 * that every malformed frame is refused with ERR_CORRUPT rather than decoded into something wrong.
 */
import assert from 'node:assert/strict';
import { isCollabError, type OpCommitted } from '@collab/core';
import { decodeOpCommitted, encodeOpCommitted, OP_COMMITTED_SCHEMA_ID, typeForId } from '../src/index.js';
import { OP_COMMITTED_SAMPLES } from './support/op-committed-samples.js';

const sample = OP_COMMITTED_SAMPLES['emoji-and-delete-text']!;

const assertCode = (code: string) => (err: unknown) => {
  assert.ok(isCollabError(err), `expected a CollabError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

describe('OpCommitted codec', () => {
  for (const [name, value] of Object.entries(OP_COMMITTED_SAMPLES)) {
    it(`round-trips the "${name}" sample`, () => {
      assert.deepEqual(decodeOpCommitted(encodeOpCommitted(value)), value);
    });
  }

  it('keeps {d: N} and {d: "text"} deletes apart and counts emoji as code points', () => {
    const value: OpCommitted = { ...sample, op: [{ d: '🏳️‍🌈' }, 1, { d: 4 }] };
    const decoded = decodeOpCommitted(encodeOpCommitted(value));
    assert.deepEqual(decoded.op, [{ d: '🏳️‍🌈' }, 1, { d: 4 }]);
    // The stored Delete count is the code point length (the rainbow flag is 4 code points, 6 UTF-16 units).
    const raw = typeForId(OP_COMMITTED_SCHEMA_ID).fromBuffer(encodeOpCommitted(value).subarray(5)) as {
      op: unknown[];
    };
    assert.deepEqual({ ...(raw.op[0] as object) }, { count: 4, text: '🏳️‍🌈' });
  });

  it('frames as magic byte 0, the 4-byte big-endian schema id, then Avro binary', () => {
    const frame = encodeOpCommitted(sample);
    assert.equal(frame[0], 0);
    assert.equal(frame.readUInt32BE(1), OP_COMMITTED_SCHEMA_ID);
    assert.deepEqual(
      frame.subarray(5),
      typeForId(OP_COMMITTED_SCHEMA_ID).toBuffer({
        ...sample,
        op: sample.op.map((c) =>
          typeof c === 'object'
            ? typeof c.d === 'number'
              ? { count: c.d, text: null }
              : { count: [...c.d].length, text: c.d }
            : c,
        ),
        components: sample.op.map((c) =>
          typeof c === 'number'
            ? { kind: 'retain', count: c, text: null }
            : typeof c === 'string'
              ? { kind: 'insert', count: [...c].length, text: c }
              : typeof c.d === 'number'
                ? { kind: 'delete', count: c.d, text: null }
                : { kind: 'delete', count: [...c.d].length, text: c.d },
        ),
      }),
    );
  });

  describe('refuses bad frames with ERR_CORRUPT', () => {
    const good = encodeOpCommitted(sample);
    const cases: Record<string, Buffer> = {
      'an empty buffer': Buffer.alloc(0),
      'a header cut short': good.subarray(0, 4),
      'a wrong magic byte': Buffer.concat([Buffer.from([1]), good.subarray(1)]),
      'an unknown schema id': Buffer.concat([Buffer.from([0, 0, 0, 3, 0xe7]), good.subarray(5)]),
      'a truncated body': good.subarray(0, good.length - 1),
      'trailing bytes': Buffer.concat([good, Buffer.from([0])]),
      'a header with no body': good.subarray(0, 5),
    };
    for (const [name, frame] of Object.entries(cases)) {
      it(name, () => assert.throws(() => decodeOpCommitted(frame), assertCode('ERR_CORRUPT')));
    }

    it('a Delete whose count disagrees with its text', () => {
      const body = typeForId(OP_COMMITTED_SCHEMA_ID).toBuffer({
        ...sample,
        op: [{ count: 2, text: 'abc' }],
        components: [],
      });
      const frame = Buffer.concat([good.subarray(0, 5), body]);
      assert.throws(() => decodeOpCommitted(frame), assertCode('ERR_CORRUPT'));
    });
  });

  describe('refuses to encode what the schema or the op format cannot hold (ERR_INVALID_ARGUMENT)', () => {
    const cases: Record<string, OpCommitted> = {
      'a zero skip': { ...sample, op: [0, 'x'] },
      'a fractional skip': { ...sample, op: [1.5, 'x'] },
      'an empty insert': { ...sample, op: [''] },
      'a zero delete': { ...sample, op: [{ d: 0 }] },
      'an empty text delete': { ...sample, op: [{ d: '' }] },
      'a fractional version': { ...sample, version: 1.5 },
      'a missing userId': { ...sample, userId: undefined as unknown as string },
    };
    for (const [name, value] of Object.entries(cases)) {
      it(name, () => assert.throws(() => encodeOpCommitted(value), assertCode('ERR_INVALID_ARGUMENT')));
    }
  });
});
