import assert from 'node:assert/strict';
import { decodeSnapshot, encodeSnapshot } from '../src/object-format.js';

describe('s3 object format', function () {
  const snapshot = { docId: 'd/1', version: 3, text: 'héllo 👋', createdAt: 1234 };
  const { body, metadata } = encodeSnapshot(snapshot);

  it('decodes what it encodes', function () {
    assert.equal(metadata['collab-bytes'], String(Buffer.byteLength(snapshot.text)));
    assert.deepEqual(decodeSnapshot('d/1', 3, body, metadata, 'here'), snapshot);
  });

  const corrupt = (why: RegExp) => (err: unknown) =>
    (err as { code?: string }).code === 'ERR_CORRUPT' && why.test((err as Error).message);

  it('rejects a changed byte, a short body, another doc or version, an unknown format', function () {
    const flipped = Buffer.from(body);
    flipped[0] = flipped[0]! ^ 1;
    assert.throws(() => decodeSnapshot('d/1', 3, flipped, metadata, 'here'), corrupt(/SHA-256/));
    assert.throws(() => decodeSnapshot('d/1', 3, body.subarray(1), metadata, 'here'), corrupt(/bytes/));
    assert.throws(() => decodeSnapshot('d/2', 3, body, metadata, 'here'), corrupt(/metadata names/));
    assert.throws(() => decodeSnapshot('d/1', 4, body, metadata, 'here'), corrupt(/metadata names/));
    assert.throws(
      () => decodeSnapshot('d/1', 3, body, { ...metadata, 'collab-format': '2' }, 'here'),
      corrupt(/unknown format/),
    );
    assert.throws(() => decodeSnapshot('d/1', 3, body, undefined, 's3://b/k'), corrupt(/s3:\/\/b\/k/));
  });
});
