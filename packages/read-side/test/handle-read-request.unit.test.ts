import assert from 'node:assert/strict';
import { CollabError } from '@collab/core';
import {
  createDocumentReader,
  handleReadRequest,
  type Authorize,
  type CommentsReader,
  type ReadRequest,
} from '../src/index.js';
import { MemoryReadModels, MemorySnapshots } from './support/memory-stores.js';
import { generateHistory, rng } from '../src/testing/random-history.js';

const authError = (code: string) => Object.assign(new Error(`auth says ${code}`), { code });

describe('handleReadRequest', () => {
  const history = generateHistory('team/notes', 120, rng(7));
  const readModels = new MemoryReadModels();
  const reader = createDocumentReader({ readModels, snapshots: new MemorySnapshots() });
  const authorize: Authorize = async (token, docId) => {
    if (token === 'expired') throw authError('ERR_TOKEN_EXPIRED');
    if (token === 'garbage') throw authError('ERR_TOKEN_INVALID');
    if (token === 'nobody') throw authError('ERR_UNAUTHENTICATED');
    if (docId === 'secret') throw authError('ERR_FORBIDDEN');
    if (token === 'broken') throw new Error('auth backend exploded');
    return { userId: 'u1' };
  };
  const errors: unknown[] = [];
  const deps = { reader, authorize, onError: (err: unknown) => errors.push(err) };
  // null: no Authorization header at all.
  const get = (path: string, query?: string, authorization: string | null = 'Bearer good') =>
    handleReadRequest(
      { method: 'GET', path, query, ...(authorization === null ? {} : { authorization }) } as ReadRequest,
      deps,
    );
  const body = (res: { body: string }) => JSON.parse(res.body) as Record<string, unknown>;

  before(() => readModels.writeOps(history.ops));

  it('serves the current text, a version and a time', async () => {
    const current = await get('/v1/docs/team%2Fnotes');
    assert.equal(current.status, 200);
    assert.deepEqual(body(current), { docId: 'team/notes', version: 120, text: history.texts[120] });
    const v = await get('/v1/docs/team%2Fnotes', 'version=7');
    assert.deepEqual(body(v), { docId: 'team/notes', version: 7, text: history.texts[7] });
    assert.match(v.headers['cache-control']!, /immutable/);
    const at = history.ops[9]!.timestamp;
    const t = await get('/v1/docs/team%2Fnotes', `at=${new Date(at).toISOString()}`);
    assert.deepEqual(body(t), {
      docId: 'team/notes',
      version: 10,
      text: history.texts[10],
      at: new Date(at).toISOString(),
    });
    assert.equal(body(await get('/v1/docs/team%2Fnotes', `?at=${at}`)).version, 10);
  });

  it('pages the history with a cursor', async () => {
    const first = body(await get('/v1/docs/team%2Fnotes/history', 'limit=2'));
    assert.deepEqual(
      (first.items as { version: number }[]).map((i) => i.version),
      [120, 119],
    );
    assert.deepEqual(Object.keys((first.items as object[])[0]!).sort(), ['clientId', 'timestamp', 'userId', 'version']);
    const second = body(await get('/v1/docs/team%2Fnotes/history', `limit=2&cursor=${String(first.next)}`));
    assert.deepEqual(
      (second.items as { version: number }[]).map((i) => i.version),
      [118, 117],
    );
  });

  it('maps authorization failures to 401 and 403', async () => {
    assert.equal((await get('/v1/docs/x', undefined, null)).status, 401);
    assert.equal(body(await get('/v1/docs/x', undefined, 'Basic abc')).code, 'ERR_UNAUTHENTICATED');
    for (const [token, status, code] of [
      ['expired', 401, 'ERR_TOKEN_EXPIRED'],
      ['garbage', 401, 'ERR_TOKEN_INVALID'],
      ['nobody', 401, 'ERR_UNAUTHENTICATED'],
    ] as const) {
      const res = await get('/v1/docs/x', undefined, `Bearer ${token}`);
      assert.equal(res.status, status);
      assert.equal(body(res).code, code);
    }
    const forbidden = await get('/v1/docs/secret');
    assert.deepEqual([forbidden.status, body(forbidden).code], [403, 'ERR_FORBIDDEN']);
    const broken = await get('/v1/docs/x', undefined, 'Bearer broken');
    assert.deepEqual([broken.status, body(broken).code], [500, 'ERR_INTERNAL']);
    assert.ok(errors.length > 0, 'a 500 is reported to onError');
  });

  it('rejects bad parameters with 400 and a code naming the rule', async () => {
    const cases: [string, string, string][] = [
      ['/v1/docs/team%2Fnotes', 'version=-1', 'ERR_INVALID_VERSION'],
      ['/v1/docs/team%2Fnotes', 'version=1.5', 'ERR_INVALID_VERSION'],
      ['/v1/docs/team%2Fnotes', 'version=1e3', 'ERR_INVALID_VERSION'],
      ['/v1/docs/team%2Fnotes', 'version=', 'ERR_INVALID_VERSION'],
      ['/v1/docs/team%2Fnotes', 'at=yesterday', 'ERR_INVALID_TIME'],
      ['/v1/docs/team%2Fnotes', 'at=2024-05-01T12:00:00', 'ERR_INVALID_TIME'],
      ['/v1/docs/team%2Fnotes', 'version=1&at=5', 'ERR_INVALID_PARAMETER'],
      ['/v1/docs/team%2Fnotes', 'version=1&version=2', 'ERR_INVALID_PARAMETER'],
      ['/v1/docs/team%2Fnotes', 'foo=1', 'ERR_INVALID_PARAMETER'],
      ['/v1/docs/team%2Fnotes/history', 'limit=0', 'ERR_INVALID_LIMIT'],
      ['/v1/docs/team%2Fnotes/history', 'limit=1001', 'ERR_INVALID_LIMIT'],
      ['/v1/docs/team%2Fnotes/history', 'cursor=$$$', 'ERR_INVALID_CURSOR'],
      ['/v1/docs/team%2Fnotes/history', 'cursor=cnotanumber', 'ERR_INVALID_CURSOR'],
      ['/v1/docs/%E0%A4%A', '', 'ERR_INVALID_DOC_ID'],
    ];
    for (const [path, query, code] of cases) {
      const res = await get(path, query);
      assert.equal(res.status, 400, `${path}?${query}`);
      assert.equal(body(res).code, code, `${path}?${query}`);
      assert.equal(typeof body(res).message, 'string');
    }
  });

  it('says 404 for unknown documents, versions beyond the head and unknown routes; 405 for other methods', async () => {
    assert.equal((await get('/v1/docs/unknown')).status, 404);
    assert.equal((await get('/v1/docs/unknown/history')).status, 404);
    const beyond = await get('/v1/docs/team%2Fnotes', 'version=121');
    assert.deepEqual([beyond.status, body(beyond).code], [404, 'ERR_NOT_FOUND']);
    assert.equal((await get('/v2/whatever')).status, 404);
    const post = await handleReadRequest({ method: 'POST', path: '/v1/docs/x', authorization: 'Bearer good' }, deps);
    assert.deepEqual([post.status, post.headers.allow], [405, 'GET']);
  });
});

describe('handleReadRequest: GET /v1/docs/:docId/comments (the threads at a version)', () => {
  const reader = createDocumentReader({ readModels: new MemoryReadModels(), snapshots: new MemorySnapshots() });
  const authorize: Authorize = async (_token, docId) => {
    if (docId === 'secret') throw authError('ERR_FORBIDDEN');
    return { userId: 'u1' };
  };
  const asked: Array<[string, number | undefined]> = [];
  const comments: CommentsReader = async (docId, version) => {
    asked.push([docId, version]);
    if (version !== undefined && version > 3) throw new CollabError('ERR_NOT_FOUND', `no version ${version}`);
    return { docId, version: version ?? 3, threads: [{ threadId: 't1' }] };
  };
  const get = (path: string, query?: string, withComments = true) =>
    handleReadRequest(
      { method: 'GET', path, ...(query === undefined ? {} : { query }), authorization: 'Bearer good' },
      { reader, authorize, ...(withComments ? { comments } : {}) },
    );

  it('answers the threads at a version, and the latest without one; never cached', async () => {
    const at2 = await get('/v1/docs/team%2Fnotes/comments', 'version=2');
    assert.equal(at2.status, 200);
    assert.deepEqual(JSON.parse(at2.body), { docId: 'team/notes', version: 2, threads: [{ threadId: 't1' }] });
    assert.equal(at2.headers['cache-control'], 'no-store');
    assert.equal(JSON.parse((await get('/v1/docs/team%2Fnotes/comments/')).body).version, 3);
    assert.deepEqual(asked, [
      ['team/notes', 2],
      ['team/notes', undefined],
    ]);
  });

  it('checks access first, then parameters; a version beyond the head is 404; no threads kept here is 404', async () => {
    asked.length = 0;
    assert.equal((await get('/v1/docs/secret/comments', 'version=1')).status, 403);
    const bad = await get('/v1/docs/d/comments', 'version=-1');
    assert.equal(bad.status, 400);
    assert.equal((await get('/v1/docs/d/comments', 'at=2026-01-01T00:00:00Z')).status, 400);
    assert.equal((await get('/v1/docs/d/comments', 'version=9')).status, 404);
    assert.deepEqual(asked, [['d', 9]]);
    const none = await get('/v1/docs/d/comments', undefined, false);
    assert.equal(none.status, 404);
    assert.equal(JSON.parse(none.body).code, 'ERR_NOT_FOUND');
  });
});
