/** The history table: aligned columns, ISO times, the next page's cursor. */
import assert from 'node:assert/strict';
import { historyTable } from '../src/format.js';

describe('history table', () => {
  it('aligns the columns and names the cursor of the next page', () => {
    const table = historyTable('d', {
      items: [
        { version: 10, userId: 'alice', clientId: 'c1', timestamp: Date.UTC(2024, 0, 1) },
        { version: 9, userId: 'bo', clientId: 'c22', timestamp: Date.UTC(2024, 0, 1, 0, 0, 1) },
      ],
      next: 'abc',
    });
    assert.equal(
      table,
      [
        'VERSION  TIME                      USER   CLIENT',
        '10       2024-01-01T00:00:00.000Z  alice  c1',
        '9        2024-01-01T00:00:01.000Z  bo     c22',
        '',
        'more: --cursor abc',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are no versions', () => {
    assert.equal(historyTable('d', { items: [] }), 'd: no versions\n');
  });
});
