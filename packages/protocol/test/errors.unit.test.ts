/** One error table: the code's (PROTOCOL_ERRORS) and the documentation's (docs/protocol.md) say the same. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AUTH_CODES, isRetriable, PROTOCOL_ERRORS, RETRIABLE_CODES } from '../src/index.js';

const docs = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('the error table', () => {
  it('docs/protocol.md lists every code once, with the retriable flag the code has', () => {
    const documented = new Map<string, boolean>();
    for (const [, code, retriable] of docs.matchAll(/^\| `(ERR_[A-Z_]+)` \| (yes|no) \|/gm)) {
      assert.equal(documented.has(code!), false, `${code} is documented twice`);
      documented.set(code!, retriable === 'yes');
    }
    const inCode = new Map(Object.entries(PROTOCOL_ERRORS).map(([code, { retriable }]) => [code, retriable]));
    assert.deepEqual(documented, inCode);
  });

  it('answers isRetriable and RETRIABLE_CODES from the table, and no for unknown codes', () => {
    for (const [code, { retriable }] of Object.entries(PROTOCOL_ERRORS)) {
      assert.equal(isRetriable(code), retriable, code);
      assert.equal(RETRIABLE_CODES.has(code), retriable, code);
    }
    assert.equal(isRetriable('ERR_FROM_A_NEWER_SERVER'), false);
    assert.equal(isRetriable('toString'), false);
    for (const code of AUTH_CODES) assert.ok(code in PROTOCOL_ERRORS, code);
  });
});
