/** The history table: aligned columns, ISO times, the next page's cursor. */
import assert from 'node:assert/strict';
import { historyTable, jsonLine, printable } from '../src/format.js';

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

  it('escapes terminal controls, bidi overrides and unpaired surrogates in ids (never prints them raw)', () => {
    const table = historyTable('d', {
      items: [
        { version: 2, userId: 'eve\u001b]0;pwned\u0007', clientId: 'c\u009b2J\u202ex', timestamp: 0 },
        { version: 1, userId: 'bob\\u001b', clientId: 'c\ud800', timestamp: 0 },
      ],
    });
    assert.doesNotMatch(table.replaceAll('\n', ''), /[\p{Cc}\u202e]/u, 'no control character left');
    assert.doesNotMatch(table, /\p{Surrogate}/u);
    assert.match(table, /eve\\u001b]0;pwned\\u0007/);
    assert.match(table, /c\\u009b2J\\u202ex/);
    assert.match(table, /bob\\\\u001b/, 'a literal backslash is doubled, so an escape is never ambiguous');
    assert.match(table, /c\\ud800/);
    assert.equal(printable('日本 😀 ok'), '日本 😀 ok', 'printable text is left alone');
  });

  it('JSON lines escape what JSON.stringify leaves raw (DEL, C1, bidi) and still parse to the same value', () => {
    const value = { userId: 'a\u007f\u009b\u202e\u001bz' };
    const line = jsonLine(value);
    assert.doesNotMatch(line.replaceAll('\n', ''), /[\p{Cc}\u202e]/u);
    assert.deepEqual(JSON.parse(line), value);
  });

  it('says so when there are no versions', () => {
    assert.equal(historyTable('d', { items: [] }), 'd: no versions\n');
  });
});
