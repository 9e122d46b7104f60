import assert from 'node:assert/strict';
import type { OtErrorCode, TextOp } from '../src/index.js';
import { OtError, transformCaret, type } from '../src/index.js';

const apply = (doc: string, op: TextOp): string => type.apply(type.create(doc), op).toString();

const throwsCode = (fn: () => unknown, code: OtErrorCode): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OtError, `expected an OtError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, /\w+ .*\./, 'the message is a sentence');
    return true;
  });
};

describe('text-unicode type: table tests', () => {
  it('exposes the ottypes interface under the reference name and URI', () => {
    assert.equal(type.name, 'text-unicode');
    assert.equal(type.uri, 'http://sharejs.org/types/text-unicode');
    for (const fn of [
      'create',
      'apply',
      'transform',
      'compose',
      'invert',
      'normalize',
      'checkOp',
      'serialize',
      'deserialize',
    ] as const) {
      assert.equal(typeof type[fn], 'function', fn);
    }
  });

  const applyCases: Array<[string, string, TextOp, string]> = [
    ['insert at start', 'abc', ['X'], 'Xabc'],
    ['insert at end', 'abc', [3, 'X'], 'abcX'],
    ['delete by count', 'abcdef', [1, { d: 2 }], 'adef'],
    ['delete by text', 'abcdef', [1, { d: 'bc' }], 'adef'],
    ['replace', 'hello world', [6, { d: 5 }, 'there'], 'hello there'],
    ['skip over an emoji counts one position', '😀b', [1, 'X'], '😀Xb'],
    ['delete an emoji by count 1', 'a😀b', [1, { d: 1 }], 'ab'],
    ['ZWJ sequence is several code points', '👨‍👩‍👧!', [5, '?'], '👨‍👩‍👧?!'],
    ['combining mark is its own code point', 'e\u0301x', [1, { d: 1 }], 'ex'],
    ['insert astral plane text', 'ab', [1, '𝒳𝒴'], 'a𝒳𝒴b'],
    ['empty op is a no-op', 'abc', [], 'abc'],
  ];
  for (const [name, doc, op, expected] of applyCases) {
    it(`apply: ${name}`, () => assert.equal(apply(doc, op), expected));
  }

  it('apply leaves the input snapshot unchanged', () => {
    const before = type.create('hello');
    const after = type.apply(before, [5, ' world']);
    assert.equal(before.toString(), 'hello');
    assert.equal(after.toString(), 'hello world');
  });

  it('transform breaks insert ties by side', () => {
    assert.deepEqual(type.transform(['a'], ['b'], 'left'), ['a']);
    assert.deepEqual(type.transform(['a'], ['b'], 'right'), [1, 'a']);
    assert.deepEqual(type.transform([1, 'x'], [{ d: 3 }], 'left'), ['x']);
    assert.deepEqual(type.transform([{ d: 2 }], [1, { d: 2 }], 'left'), [{ d: 1 }]);
  });

  it('compose, invert and makeInvertible', () => {
    assert.deepEqual(type.compose([1, 'ab'], [2, { d: 1 }]), [1, 'a']);
    assert.deepEqual(type.makeInvertible([1, { d: 2 }], 'a😀bc'), [1, { d: '😀b' }]);
    assert.deepEqual(type.invert([1, 'x', { d: 'yz' }]), [1, { d: 'x' }, 'yz']);
    throwsCode(() => type.invert([{ d: 2 }]), 'ERR_OP_NOT_INVERTIBLE');
  });

  it('transformPosition and transformSelection count code points', () => {
    assert.equal(type.transformPosition(2, ['😀😀']), 4);
    assert.equal(type.transformPosition(0, ['x']), 0, 'an insert at the cursor goes after it');
    assert.deepEqual(type.transformSelection([1, 5], [2, { d: 2 }]), [1, 3]);
    throwsCode(() => type.transformSelection(['a', 1] as never, []), 'ERR_SELECTION_INVALID');
  });

  it('transformCaret: an insert at the caret pushes it only for the caret’s owner', () => {
    assert.equal(transformCaret(2, [2, 'xy'], false), 2, 'others typing at my caret leave it before their text');
    assert.equal(transformCaret(2, [2, 'xy'], true), 4, 'my own typing pushes my caret');
    assert.equal(transformCaret(3, [1, { d: 1 }], true), 2);
    assert.equal(transformCaret(1, [{ d: 3 }], true), 0);
    assert.equal(transformCaret(2, ['😀'], true), 3, 'counts code points');
  });

  it('serialize and deserialize round-trip through a plain string', () => {
    const doc = type.create('x😀y');
    const data = type.serialize(doc);
    assert.equal(data, 'x😀y');
    assert.equal(type.deserialize(data).toString(), 'x😀y');
    assert.equal(type.apply(data, [3, '!']).toString(), 'x😀y!', 'apply accepts a serialized snapshot');
  });

  /** An array nested `depth` deep: JSON.stringify and String() overflow the stack on it. */
  const nested = (depth: number): unknown => {
    let op: unknown = ['x'];
    for (let i = 0; i < depth; i++) op = [op];
    return op;
  };

  const badOps: Array<[string, unknown, OtErrorCode]> = [
    ['not an array', { d: 1 }, 'ERR_OP_NOT_ARRAY'],
    ['an array component nested 100,000 deep', nested(100_000), 'ERR_OP_COMPONENT_TYPE'],
    ['a delete nested 100,000 deep', [{ d: nested(100_000) }], 'ERR_OP_DELETE_INVALID'],
    ['null component', [null], 'ERR_OP_COMPONENT_TYPE'],
    ['boolean component', [true], 'ERR_OP_COMPONENT_TYPE'],
    ['array component', [[1]], 'ERR_OP_COMPONENT_TYPE'],
    ['object with extra keys', [{ d: 1, x: 2 }], 'ERR_OP_COMPONENT_TYPE'],
    ['object without d', [{ i: 'x' }], 'ERR_OP_COMPONENT_TYPE'],
    ['zero skip', [0, 'a'], 'ERR_OP_SKIP_INVALID'],
    ['negative skip', [-1, 'a'], 'ERR_OP_SKIP_INVALID'],
    ['fractional skip', [1.5, 'a'], 'ERR_OP_SKIP_INVALID'],
    ['infinite skip', [Infinity, 'a'], 'ERR_OP_SKIP_INVALID'],
    ['NaN skip', [NaN, 'a'], 'ERR_OP_SKIP_INVALID'],
    ['empty insert', [''], 'ERR_OP_INSERT_EMPTY'],
    ['unpaired surrogate insert', ['\ud83d'], 'ERR_OP_INSERT_INVALID_UNICODE'],
    ['zero delete', [{ d: 0 }], 'ERR_OP_DELETE_INVALID'],
    ['negative delete', [{ d: -2 }], 'ERR_OP_DELETE_INVALID'],
    ['fractional delete', [{ d: 0.5 }], 'ERR_OP_DELETE_INVALID'],
    ['empty delete text', [{ d: '' }], 'ERR_OP_DELETE_INVALID'],
    ['delete of wrong type', [{ d: true }], 'ERR_OP_DELETE_INVALID'],
    ['adjacent skips', [1, 2, 'a'], 'ERR_OP_NOT_NORMALIZED'],
    ['adjacent inserts', ['a', 'b'], 'ERR_OP_NOT_NORMALIZED'],
    ['adjacent deletes', [{ d: 1 }, { d: 1 }], 'ERR_OP_NOT_NORMALIZED'],
    ['trailing skip', ['a', 3], 'ERR_OP_TRAILING_SKIP'],
  ];
  for (const [name, op, code] of badOps) {
    it(`checkOp rejects ${name} with ${code}`, () => {
      throwsCode(() => type.checkOp(op), code);
      throwsCode(() => type.apply(type.create('abcdef'), op as TextOp), code);
    });
  }

  const misfits: Array<[string, string, TextOp, OtErrorCode]> = [
    ['skip past the end', 'abc', [4, 'x'], 'ERR_OP_TOO_LONG'],
    ['delete past the end', 'abc', [2, { d: 2 }], 'ERR_OP_TOO_LONG'],
    ['delete past the end, counting code points', '😀😀', [{ d: 3 }], 'ERR_OP_TOO_LONG'],
    ['delete text that differs', 'abc', [{ d: 'ax' }], 'ERR_OP_DELETE_MISMATCH'],
  ];
  for (const [name, doc, op, code] of misfits) {
    it(`apply rejects ${name} with ${code} and leaves the document alone`, () => {
      const snapshot = type.create(doc);
      throwsCode(() => type.apply(snapshot, op), code);
      throwsCode(() => type.checkOp(op, snapshot), code);
      assert.equal(snapshot.toString(), doc);
    });
  }

  it('rejects a bad transform side and a non-string initial value', () => {
    throwsCode(() => type.transform(['a'], ['b'], 'middle' as never), 'ERR_TRANSFORM_SIDE');
    throwsCode(() => type.create(42), 'ERR_SNAPSHOT_INVALID');
    throwsCode(() => type.apply({ nope: 1 } as never, []), 'ERR_SNAPSHOT_INVALID');
  });
});
