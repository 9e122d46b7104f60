import assert from 'node:assert/strict';

import { estimateBytes, planBatches } from '../src/batches.js';
import type { RowWrite } from '../src/batches.js';

const row = (partition: string, bytes: number, id = 0): RowWrite => ({ query: 'q', params: [id], partition, bytes });

describe('planBatches', function () {
  it('groups rows by partition only (first-seen order), never mixing partitions in one unit', function () {
    const rows = [row('a', 10, 1), row('b', 10, 2), row('a', 10, 3), row('c', 10, 4), row('b', 10, 5)];
    const units = planBatches(rows, { maxRows: 100, maxBytes: 1000 });
    assert.deepEqual(
      units.map((u) => u.map((r) => r.params[0])),
      [[1, 3], [2, 5], [4]],
    );
    for (const u of units) assert.equal(new Set(u.map((r) => r.partition)).size, 1);
  });

  it('cuts a large group by rows and by bytes; a row above the byte cap goes alone instead of failing', function () {
    const byRows = planBatches(
      Array.from({ length: 7 }, (_, i) => row('p', 1, i)),
      { maxRows: 3, maxBytes: 1000 },
    );
    assert.deepEqual(
      byRows.map((u) => u.length),
      [3, 3, 1],
    );
    const byBytes = planBatches(
      [row('p', 40, 1), row('p', 40, 2), row('p', 150, 3), row('p', 10, 4), row('p', 95, 5)],
      {
        maxRows: 100,
        maxBytes: 100,
      },
    );
    assert.deepEqual(
      byBytes.map((u) => u.map((r) => r.params[0])),
      [[1, 2], [3], [4], [5]],
    );
    for (const u of byBytes) assert.ok(u.length === 1 || u.reduce((s, r) => s + r.bytes, 0) <= 100);
  });

  it('estimates text in UTF-8 bytes and numbers/dates as 8 bytes', function () {
    const base = estimateBytes([]);
    assert.equal(estimateBytes(['é👋']) - base, 4 + 2 + 4);
    assert.equal(estimateBytes([1, new Date(0)]) - base, 2 * (4 + 8));
  });
});
