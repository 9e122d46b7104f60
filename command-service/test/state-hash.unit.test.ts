/** The server's state hash (node:crypto) is the protocol's, which the SDK computes in plain JavaScript. */
import assert from 'node:assert/strict';
import { type } from '@collab/ot-text';
import { stateHash as protocolStateHash } from '@collab/protocol';
import { stateHash } from '../src/documents/state-hash.js';

describe('the server state hash', () => {
  it('equals @collab/protocol stateHash on empty, ASCII, astral and long texts', () => {
    for (const text of ['', 'abc', '😀 héllo 中文', 'x'.repeat(64), 'y'.repeat(10_000)]) {
      assert.equal(stateHash(type.create(text)), protocolStateHash(text), JSON.stringify(text.slice(0, 20)));
    }
  });
});
