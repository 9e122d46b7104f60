/**
 * Access follows the token now (architecture invariant 7), attacked for real on one command-service on real Kafka
 * with presence over real Redis: a connection that re-authenticates without a grant, fails to re-authenticate, or
 * whose token expires gets `closed` (with the reason) for its documents and then none of their ops or presence;
 * tokens that never expire, or live longer than the server allows, are refused.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import type { PresenceBus } from '@collab/core';
import { useStack } from '@collab/infra';
import { SignJWT } from 'jose';
import { signDevToken } from '../src/auth/tokens.js';
import type { Message } from './support/raw-client.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, SECRET, startService, token } from './support/service.js';

type Grants = Record<string, Array<'read' | 'write'>>;

async function authed(url: string, signed: string | Promise<string>): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await signed, protocol: 1 });
  const welcome = await c.next();
  assert.equal(welcome.t, 'welcome', JSON.stringify(welcome));
  return c;
}

async function opened(c: RawClient, docId: string, version?: number): Promise<Message> {
  c.send({ t: 'open', docId, ...(version === undefined ? {} : { version }) });
  const answer = await c.next((m) => m.docId === docId && ['snapshot', 'catchup', 'error'].includes(m.t));
  // Then the document's comment threads, and who is here.
  if (answer.t !== 'error') await c.next((m) => m.t === 'comments' && m.docId === docId);
  await c.next((m) => m.t === 'presence' && m.docId === docId && Array.isArray(m.users));
  return answer;
}

/**
 * Everything the server sent `c` until now: a ping's pong comes after every frame queued before it. What the
 * others were sent is on its way by the time `witness` has received it (one instance delivers to all at once).
 */
async function drained(c: RawClient): Promise<Message[]> {
  const id = randomUUID();
  c.send({ t: 'ping', id });
  await c.next((m) => m.t === 'pong' && m.id === id);
  return c.pending().filter((m) => m.t !== 'pong');
}

describe('access follows the token (real Kafka, real Redis, real sockets)', function () {
  this.timeout(120_000);
  let t: TestTopic;
  let svc: RunningService;
  let presence: PresenceBus;
  const sockets: RawClient[] = [];
  const track = (c: RawClient) => (sockets.push(c), c);

  before(async () => {
    t = await freshTopic(2);
    const stack = await useStack();
    presence = createRedisPresenceBus({ url: stack.redis.url, keyPrefix: `test-${randomUUID().slice(0, 8)}:` });
    svc = await startService(t, { presence: { bus: presence } });
  });
  after(async () => {
    for (const c of sockets) c.close();
    await svc?.stop();
    await presence?.close();
  });

  /** Alice (writer, witness of her own traffic) and Bob in a fresh document; Bob is the one who loses access. */
  async function aliceAndBob(bobGrants: Grants = { '*': ['read', 'write'] }, bobExpires?: string) {
    const docId = `doc-${randomUUID()}`;
    const alice = track(await authed(svc.url, token('alice')));
    const bob = track(
      await authed(svc.url, signDevToken({ secret: SECRET, userId: 'bob', docs: bobGrants, expiresIn: bobExpires })),
    );
    const carol = track(await authed(svc.url, token('carol')));
    for (const c of [alice, bob, carol]) await opened(c, docId);
    let version = 0;
    /** Alice edits and moves her cursor; resolves once Carol (still allowed) has seen both. */
    const aliceActs = async () => {
      alice.send({ t: 'submit', docId, clientId: 'ca', seq: ++version, baseVersion: version - 1, op: ['x'] });
      await alice.next(ofType('ack'));
      await carol.next((m) => m.t === 'op' && m.version === version);
      alice.send({ t: 'presence', docId, version, cursor: { anchor: 0, head: version } });
      await carol.next((m) => m.t === 'presence' && (m.update as { userId?: string } | undefined)?.userId === 'alice');
    };
    // Bob sees Alice's traffic while he may.
    await aliceActs();
    const before = await drained(bob);
    assert.ok(before.some((m) => m.t === 'op' && m.docId === docId));
    return { docId, alice, bob, carol, aliceActs, version: () => version };
  }

  it('re-auth without a grant: closed with ERR_FORBIDDEN before the welcome, then no op or presence of it', async () => {
    const { docId, bob, aliceActs } = await aliceAndBob();
    await drained(bob);
    bob.send({ t: 'auth', token: await token('bob', { 'other-*': ['read', 'write'] }), protocol: 1 });
    const closed = await bob.next((m) => m.t !== 'presence' && m.t !== 'op');
    assert.equal(closed.t, 'closed', JSON.stringify(closed));
    assert.equal(closed.docId, docId);
    assert.equal(closed.reason, 'ERR_FORBIDDEN');
    assert.equal((await bob.next(ofType('welcome'))).userId, 'bob');
    const seenBefore = (await drained(bob)).length;
    await aliceActs();
    assert.deepEqual((await drained(bob)).slice(seenBefore), [], 'nothing of the document after it was closed');
    bob.send({ t: 'presence', docId, version: 1 });
    assert.equal((await bob.next(ofType('error'))).code, 'ERR_DOC_NOT_OPEN');
    bob.send({ t: 'open', docId });
    assert.equal((await bob.next(ofType('error'))).code, 'ERR_FORBIDDEN');
  });

  it('re-auth with a token that still grants read keeps the document open', async () => {
    const { docId, bob, aliceActs, version } = await aliceAndBob();
    bob.send({ t: 'auth', token: await token('bob', { [docId]: ['read'] }), protocol: 1 });
    await bob.next(ofType('welcome'));
    await aliceActs();
    const after = await drained(bob);
    assert.ok(after.some((m) => m.t === 'op' && m.version === version()));
    assert.equal(
      after.some((m) => m.t === 'closed'),
      false,
    );
  });

  it('a failed re-auth signs the connection out: closed with its code, then nothing, and no request is served', async () => {
    const { docId, bob, aliceActs } = await aliceAndBob();
    bob.send({ t: 'auth', token: 'not.a.jwt', protocol: 1 });
    const closed = await bob.next(ofType('closed'));
    assert.deepEqual([closed.docId, closed.reason], [docId, 'ERR_TOKEN_INVALID']);
    assert.equal((await bob.next(ofType('error'))).code, 'ERR_TOKEN_INVALID');
    const seenBefore = (await drained(bob)).length;
    await aliceActs();
    assert.deepEqual((await drained(bob)).slice(seenBefore), []);
    bob.send({ t: 'open', docId });
    assert.equal((await bob.next(ofType('error'))).code, 'ERR_UNAUTHENTICATED', 'the old token no longer speaks');
  });

  it('expiry stops delivery at once, unasked (closed + ERR_TOKEN_EXPIRED); a fresh token catches up', async () => {
    const { docId, bob, aliceActs, version } = await aliceAndBob({ '*': ['read', 'write'] }, '3s');
    // Bob sends nothing: the server closes the document when the token expires (exp has one-second resolution).
    const closed = await bob.next(ofType('closed'), 10_000);
    assert.deepEqual([closed.docId, closed.reason], [docId, 'ERR_TOKEN_EXPIRED']);
    assert.equal((await bob.next(ofType('error'))).code, 'ERR_TOKEN_EXPIRED');
    const seenBefore = (await drained(bob)).length;
    await aliceActs();
    assert.deepEqual((await drained(bob)).slice(seenBefore), [], 'nothing after expiry');
    bob.send({ t: 'auth', token: await token('bob'), protocol: 1 });
    await bob.next(ofType('welcome'));
    const catchup = await opened(bob, docId, 1);
    assert.equal(catchup.t, 'catchup');
    assert.equal(catchup.version, version());
  });

  it('refuses a token without exp, and one valid for longer than the maximum (24 h by default)', async () => {
    const noExp = await new SignJWT({ docs: { '*': ['read', 'write'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuedAt()
      .sign(new TextEncoder().encode(SECRET));
    const week = await signDevToken({ secret: SECRET, userId: 'mallory', docs: { '*': ['read'] }, expiresIn: '7d' });
    for (const refused of [noExp, week]) {
      const c = track(await RawClient.connect(svc.url));
      c.send({ t: 'auth', token: refused, protocol: 1 });
      assert.equal((await c.next()).code, 'ERR_TOKEN_INVALID');
      c.send({ t: 'open', docId: 'anything' });
      assert.equal((await c.next()).code, 'ERR_UNAUTHENTICATED');
    }
  });
});
