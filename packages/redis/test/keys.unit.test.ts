import assert from 'node:assert/strict';
import { redactUrl } from '../src/errors.js';
import { docNames } from '../src/keys.js';

/** The part Redis Cluster hashes: between the first '{' and the next '}', when non-empty. */
const hashTag = (key: string): string | undefined => {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
};

describe('redis presence names', function () {
  it('puts every name of a document under one hash tag', function () {
    const n = docNames('collab:', 'doc-1');
    assert.deepEqual(n, {
      channel: 'collab:presence:{doc-1}',
      clients: 'collab:presence:{doc-1}:clients',
      states: 'collab:presence:{doc-1}:states',
    });
    for (const id of ['}x', '{', 'a}b', 'a{b}c', '%7D', '']) {
      if (id === '') continue;
      const names = docNames('p:', id);
      const tags = [names.channel, names.clients, names.states].map(hashTag);
      assert.ok(tags[0] !== undefined, `a non-empty tag for ${id}`);
      assert.deepEqual(new Set(tags).size, 1, `one tag for ${id}`);
    }
  });

  it('keeps documents apart, including ids that differ only by escaped characters', function () {
    const ids = ['a', 'a}', 'a%7D', 'a{', '%', '%25'];
    const channels = ids.map((id) => docNames('', id).channel);
    assert.equal(new Set(channels).size, ids.length);
  });

  it('masks the password of a URL', function () {
    assert.equal(redactUrl('redis://user:pw@host:6379/0'), 'redis://user:***@host:6379/0');
    assert.equal(redactUrl('redis://127.0.0.1:29379'), 'redis://127.0.0.1:29379');
  });
});
