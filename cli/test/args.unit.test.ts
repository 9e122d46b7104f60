/** Flag parsing: every accepted form, and a UsageError (exit 2) naming the flag for everything else. */
import assert from 'node:assert/strict';
import { parseFromOffsets, parseNonNegativeInt, parsePositiveInt, parseTime } from '../src/args.js';
import { UsageError } from '../src/errors.js';

describe('flag parsing', () => {
  it('integers: digits only, within bounds', () => {
    assert.equal(parseNonNegativeInt('--version', '0'), 0);
    assert.equal(parsePositiveInt('--limit', '1000', 1000), 1000);
    for (const raw of ['', '-1', '1.5', '1e3', ' 2', '0x10', '99999999999999999999']) {
      assert.throws(() => parseNonNegativeInt('--version', raw), UsageError, raw);
    }
    assert.throws(() => parsePositiveInt('--limit', '0', 1000), /--limit: must be between 1 and 1000/);
    assert.throws(() => parsePositiveInt('--limit', '1001', 1000), UsageError);
  });

  it('times: epoch milliseconds or ISO-8601 with a zone; a zone-less date-time is refused', () => {
    assert.equal(parseTime('--at', '1714564800000'), 1714564800000);
    assert.equal(parseTime('--at', '2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
    assert.equal(parseTime('--at', '2024-05-01T14:00:00.000+02:00'), Date.UTC(2024, 4, 1, 12));
    for (const raw of ['2024-05-01T12:00:00', '2024-05-01', 'yesterday', '2024-13-45T99:00:00Z']) {
      assert.throws(() => parseTime('--at', raw), /--at: give milliseconds since the epoch/, raw);
    }
  });

  it('replay offsets: one for all partitions, or per partition with the rest from 0', () => {
    assert.deepEqual(parseFromOffsets('--from', '12', 3), [12n, 12n, 12n]);
    assert.deepEqual(parseFromOffsets('--from', '0=5, 2=7', 3), [5n, 0n, 7n]);
    assert.throws(
      () => parseFromOffsets('--from', '3=1,x,1=-2', 3),
      (err: Error) => {
        assert.ok(err instanceof UsageError);
        for (const bad of ['"3=1"', '"x"', '"1=-2"']) assert.ok(err.message.includes(bad), err.message);
        return true;
      },
    );
  });
});
