import assert from 'node:assert/strict';
import { docPrefix, encodeDocId, snapshotKey, versionOfKey } from '../src/keys.js';

describe('s3 key layout', function () {
  it('sorts keys newest first: string order of keys is reverse version order', function () {
    const versions = [0, 1, 9, 10, 99, 100, 101, 12345, 2 ** 31, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    const keys = versions.map((v) => snapshotKey('p/', 'doc', v));
    assert.deepEqual([...keys].sort(), [...keys].reverse());
  });

  it('StartAfter key(v + 1) skips exactly the versions above v', function () {
    const keys = [3, 7, 8, 20].map((v) => snapshotKey('', 'd', v)).sort();
    const after = snapshotKey('', 'd', 8);
    assert.deepEqual(
      keys.filter((k) => k > after).map((k) => versionOfKey(docPrefix('', 'd'), k)),
      [7, 3],
    );
  });

  it('parses the version back, and rejects keys it did not write', function () {
    const prefix = docPrefix('x/', 'a b');
    assert.equal(versionOfKey(prefix, snapshotKey('x/', 'a b', 1234)), 1234);
    assert.equal(versionOfKey(prefix, `${prefix}README`), undefined);
    assert.equal(versionOfKey(prefix, `${prefix}9007199254740990-v2`), undefined, 'the two halves disagree');
    assert.equal(versionOfKey(docPrefix('x/', 'other'), snapshotKey('x/', 'a b', 1)), undefined);
  });

  it('escapes every docId character that could act as a path or fake a prefix', function () {
    assert.equal(encodeDocId('a/b'), 'a%2Fb');
    assert.equal(encodeDocId('..'), '%2E%2E');
    assert.equal(encodeDocId("it's (a) *test*~!"), 'it%27s%20%28a%29%20%2Atest%2A%7E%21');
    assert.equal(encodeDocId('ü🚀'), '%C3%BC%F0%9F%9A%80');
    assert.equal(encodeDocId('Az09_-'), 'Az09_-');
    assert.ok(!docPrefix('', 'a').startsWith(docPrefix('', 'a/b')));
    assert.ok(!docPrefix('', 'ab').startsWith(docPrefix('', 'a')), 'a docId that extends another stays apart');
  });

  it('rejects empty docIds and versions that are not non-negative safe integers', function () {
    assert.throws(() => encodeDocId(''), { code: 'ERR_INVALID_ARGUMENT' });
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => snapshotKey('', 'd', bad), { code: 'ERR_INVALID_ARGUMENT' }, String(bad));
    }
  });
});
