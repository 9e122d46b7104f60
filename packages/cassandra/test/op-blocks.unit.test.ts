/** The op_blocks row format: how a document's ops become block writes, and that a stored block is checked. */
import assert from 'node:assert/strict';

import { isCollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

import { BLOCK_SIZE, BLOCK_WRITE_MAX_BYTES, decodeBlock, planBlockWrites } from '../src/op-blocks.js';

const op = (version: number, text = 'x'): OpCommitted => ({
  docId: 'd',
  version,
  op: version === 1 ? [text] : [1, text],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp: 1_700_000_000_000 + version,
});
const byVersion = (ops: OpCommitted[]) => new Map(ops.map((o) => [o.version, o]));
const bucketOf = (size: number) => (v: number) => Math.floor(v / size);
const plan = (versions: number[], size = 10_000, text?: (v: number) => string) =>
  planBlockWrites(byVersion(versions.map((v) => op(v, text?.(v)))), bucketOf(size)).map((w) => [
    w.bucket,
    w.block,
    Object.keys(w.entries).map((place) => w.block * BLOCK_SIZE + Number(place)),
  ]);

describe('op blocks (migration 0003)', function () {
  it('groups versions by (bucket, block of 64), gaps included, in version order', function () {
    assert.deepEqual(plan([70, 3, 5, 63, 64, 200]), [
      [0, 0, [3, 5, 63]],
      [0, 1, [64, 70]],
      [0, 3, [200]],
    ]);
    // Bucket size 100: block 1 (64..127) straddles bucket 0 and bucket 1, so it is two writes (two rows).
    assert.deepEqual(plan([98, 99, 100, 101], 100), [
      [0, 1, [98, 99]],
      [1, 1, [100, 101]],
    ]);
    assert.equal(BLOCK_SIZE, 64);
  });

  it('cuts a block into several writes before one passes the byte cap; a larger op is a write of its own', function () {
    const big = (v: number) =>
      v === 3 ? 'y'.repeat(BLOCK_WRITE_MAX_BYTES) : v >= 5 ? 'z'.repeat(BLOCK_WRITE_MAX_BYTES / 3) : 'x';
    assert.deepEqual(
      plan([1, 2, 3, 4, 5, 6, 7, 8], 10_000, big).map((w) => w[2]),
      [[1, 2], [3], [4, 5, 6], [7, 8]],
    );
    for (const w of planBlockWrites(byVersion([1, 2, 4].map((v) => op(v, '😀é'))), bucketOf(100))) {
      const bytes = Object.values(w.entries).reduce((sum, e) => sum + Buffer.byteLength(e, 'utf8') + 8, 0);
      assert.equal(w.bytes, bytes);
    }
  });

  it('decodes what it encodes, exactly, in version order whatever the map order', function () {
    const ops = [op(66, '👍🏽'), op(65), op(70, 'a\nb')];
    const [write] = planBlockWrites(byVersion(ops), bucketOf(10_000));
    const stored = Object.fromEntries(Object.entries(write!.entries).reverse());
    assert.deepEqual(decodeBlock('d', 0, 1, stored, bucketOf(10_000)), [ops[1], ops[0], ops[2]]);
  });

  it('refuses a stored block with a place outside it, a version of another bucket or a malformed entry (ERR_CORRUPT)', function () {
    const entry = (v: number) => planBlockWrites(byVersion([op(v)]), bucketOf(10_000))[0]!.entries[String(v % 64)]!;
    const corrupt = (map: unknown, bucket = 0, block = 1) =>
      assert.throws(
        () => decodeBlock('d', bucket, block, map, bucketOf(100)),
        (err) => isCollabError(err, 'ERR_CORRUPT') && err.message.includes('d '),
        JSON.stringify(map),
      );
    corrupt({ 64: entry(65) }); // a place past the block
    corrupt({ '-1': entry(65) });
    corrupt({ 1.5: entry(65) });
    corrupt({ 36: entry(100) }, 0, 1); // version 100 is bucket 1's, stored in bucket 0
    assert.equal(decodeBlock('d', 1, 1, { 36: entry(100) }, bucketOf(100))[0]?.version, 100);
    corrupt(null);
    corrupt({ 1: '{"not":"a tuple"}' });
    corrupt({ 1: '[64,"c",65,"u",1]' }); // 5-tuple
    corrupt({ 1: '[64,"c",65,"u","noon",[1]]' }); // time not a number
    corrupt({ 1: '[64,"c",65,"u",1,"not an op"]' });
    corrupt({ 1: '[64,"c",65,' });
  });
});
