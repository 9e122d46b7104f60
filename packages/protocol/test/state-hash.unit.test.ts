/** The client's state hash must be bit-for-bit the server's (node:crypto SHA-256 over UTF-8, 16 hex digits). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stateHash } from '../src/index.js';
import { sha256Hex } from '../src/state-hash.js';

describe('stateHash', () => {
  it('matches node:crypto on the empty text, ASCII, emoji and lengths around the 64-byte block edges', () => {
    const texts = ['', 'abc', '😀 héllo 中文', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'y'.repeat(1000)];
    for (const text of texts) {
      const expected = createHash('sha256').update(text, 'utf8').digest('hex');
      assert.equal(sha256Hex(new TextEncoder().encode(text)), expected, JSON.stringify(text.slice(0, 20)));
      assert.equal(stateHash(text), expected.slice(0, 16));
    }
  });
});
