/**
 * The WebSocket protocol against a real command-service on real Kafka: the happy path, and a table of bad input
 * where each frame gets its error code and changes nothing for anyone else.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Message } from './support/raw-client.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, startService, TEST_LIMITS, token } from './support/service.js';

async function authed(
  url: string,
  userId = 'alice',
  docs?: Record<string, Array<'read' | 'write'>>,
): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId, docs), protocol: 1 });
  const welcome = await c.next();
  assert.equal(welcome.t, 'welcome', JSON.stringify(welcome));
  return c;
}

describe('command-service protocol (real Kafka)', function () {
  let topic: TestTopic;
  let svc: RunningService;
  const clients: RawClient[] = [];
  const track = (c: RawClient): RawClient => (clients.push(c), c);

  before(async () => {
    topic = await freshTopic();
    svc = await startService(topic);
  });
  after(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
  });

  it('auth → open → submit → ack to the sender, op to the others; reopening catches up', async () => {
    const docId = `doc-${randomUUID()}`;
    const a = track(await authed(svc.url, 'alice'));
    const b = track(await authed(svc.url, 'bob'));
    a.send({ t: 'open', docId });
    b.send({ t: 'open', docId });
    assert.deepEqual(await a.next(), { t: 'snapshot', docId, version: 0, text: '' });
    assert.deepEqual(await b.next(), { t: 'snapshot', docId, version: 0, text: '' });
    // Right after the text, every open gets the document's comment threads (none here).
    for (const c of [a, b]) {
      assert.deepEqual(await c.next(), { t: 'comments', docId, version: 0, part: 0, parts: 1, threads: [] });
    }

    a.send({ t: 'submit', docId, clientId: 'ca', seq: 1, baseVersion: 0, op: ['hello'] });
    assert.deepEqual(await a.next(), { t: 'ack', docId, seq: 1, version: 1 });
    const op = await b.next(ofType('op'));
    assert.equal(op.version, 1);
    assert.deepEqual(op.op, ['hello']);
    assert.equal(op.userId, 'alice');

    // Concurrent: both based on version 1; the second is transformed (its insert goes first on a tie).
    a.send({ t: 'submit', docId, clientId: 'ca', seq: 2, baseVersion: 1, op: [5, '!'] });
    b.send({ t: 'submit', docId, clientId: 'cb', seq: 1, baseVersion: 1, op: [5, '?'] });
    const acks = await Promise.all([a.next(ofType('ack')), b.next(ofType('ack'))]);
    assert.deepEqual(acks.map((m) => m.version).sort(), [2, 3]);

    const c = track(await authed(svc.url, 'carol'));
    c.send({ t: 'open', docId, version: 1 });
    const catchup = await c.next();
    assert.equal(catchup.t, 'catchup');
    assert.equal(catchup.version, 3);
    assert.equal((catchup.ops as unknown[]).length, 2);

    const d = track(await authed(svc.url, 'dave'));
    d.send({ t: 'open', docId });
    const snap = await d.next();
    assert.equal(snap.t, 'snapshot');
    assert.ok(snap.text === 'hello!?' || snap.text === 'hello?!', String(snap.text));
  });

  it('a resubmission with the same (clientId, seq) gets the original ack and is not committed twice', async () => {
    const docId = `doc-${randomUUID()}`;
    const a = track(await authed(svc.url));
    a.send({ t: 'open', docId });
    await a.next(ofType('snapshot'));
    a.send({ t: 'submit', docId, clientId: 'c1', seq: 1, baseVersion: 0, op: ['x'] });
    assert.equal((await a.next(ofType('ack'))).version, 1);
    a.send({ t: 'submit', docId, clientId: 'c1', seq: 1, baseVersion: 0, op: ['x'] });
    assert.deepEqual(await a.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
    const fresh = track(await authed(svc.url));
    fresh.send({ t: 'open', docId });
    assert.deepEqual(await fresh.next(), { t: 'snapshot', docId, version: 1, text: 'x' });
  });

  it('refuses everything before auth, bad tokens, and documents the token does not grant', async () => {
    const c = track(await RawClient.connect(svc.url));
    c.send({ t: 'open', docId: 'x' });
    assert.equal((await c.next()).code, 'ERR_UNAUTHENTICATED');
    c.send({ t: 'auth', token: 'not.a.jwt', protocol: 1 });
    assert.equal((await c.next()).code, 'ERR_TOKEN_INVALID');
    c.send({ t: 'auth', token: await token('eve'), protocol: 99 });
    assert.equal((await c.next()).code, 'ERR_PROTOCOL_VERSION');

    const limited = track(await authed(svc.url, 'mallory', { 'public-*': ['read'] }));
    limited.send({ t: 'open', docId: 'secret-doc' });
    const denied = await limited.next();
    assert.equal(denied.code, 'ERR_FORBIDDEN');
    assert.equal(denied.docId, 'secret-doc');
    limited.send({ t: 'open', docId: 'public-1' });
    assert.equal((await limited.next()).t, 'snapshot');
    assert.equal((await limited.next()).t, 'comments');
    limited.send({ t: 'submit', docId: 'public-1', clientId: 'm', seq: 1, baseVersion: 0, op: ['x'] });
    assert.equal((await limited.next()).code, 'ERR_FORBIDDEN');
  });

  describe('bad input: each frame gets its code, and nothing changes for anyone else', () => {
    let docId: string;
    let victim: RawClient;
    let attacker: RawClient;

    before(async () => {
      docId = `doc-${randomUUID()}`;
      victim = track(await authed(svc.url, 'victim'));
      attacker = track(await authed(svc.url, 'attacker'));
      for (const c of [victim, attacker]) {
        c.send({ t: 'open', docId });
        await c.next(ofType('snapshot'));
        await c.next(ofType('comments'));
      }
      victim.send({ t: 'submit', docId, clientId: 'v', seq: 1, baseVersion: 0, op: ['stable text'] });
      await victim.next(ofType('ack'));
      await attacker.next(ofType('op'));
    });

    const submit = (over: Record<string, unknown>): Record<string, unknown> => ({
      t: 'submit',
      docId: '<doc>',
      clientId: 'att',
      seq: 1,
      baseVersion: 1,
      op: ['x'],
      ...over,
    });
    const table: Array<[string, unknown, string, string?]> = [
      ['a frame that is not JSON', '{not json', 'ERR_BAD_FRAME'],
      ['a JSON array', '[1,2]', 'ERR_INVALID_MESSAGE'],
      ['an unknown type', { t: 'explode' }, 'ERR_UNKNOWN_TYPE'],
      ['a missing type', { docId: 'x' }, 'ERR_UNKNOWN_TYPE'],
      ['a wrong field type', submit({ seq: 'one' }), 'ERR_INVALID_MESSAGE'],
      ['an extra field', submit({ evil: true }), 'ERR_INVALID_MESSAGE'],
      ['a bad document id', { t: 'open', docId: '../../etc/passwd' }, 'ERR_INVALID_MESSAGE'],
      ['an op that is not a list', submit({ op: 'x' }), 'ERR_OP_INVALID', 'ERR_OP_NOT_ARRAY'],
      ['an op with a zero skip', submit({ op: [0, 'x'] }), 'ERR_OP_INVALID', 'ERR_OP_SKIP_INVALID'],
      ['an op past the end of the document', submit({ op: [500, 'x'] }), 'ERR_OP_INVALID', 'ERR_OP_TOO_LONG'],
      [
        'a delete of text that is not there',
        submit({ op: [{ d: 'nope' }] }),
        'ERR_OP_INVALID',
        'ERR_OP_DELETE_MISMATCH',
      ],
      ['a base version from the future', submit({ baseVersion: 99 }), 'ERR_BASE_VERSION_FUTURE'],
      ['a negative base version', submit({ baseVersion: -1 }), 'ERR_BASE_VERSION_INVALID'],
      [
        'an op inserting more than the limit',
        submit({ op: ['y'.repeat(TEST_LIMITS.maxOpInsertLength + 1)] }),
        'ERR_OP_TOO_LARGE',
      ],
      ['an oversized frame', submit({ op: ['z'.repeat(TEST_LIMITS.maxFrameBytes + 10)] }), 'ERR_FRAME_TOO_LARGE'],
      ['a submit to a document not opened', submit({ docId: 'never-opened' }), 'ERR_DOC_NOT_OPEN'],
      [
        'a comment to a server started without comment limits',
        { t: 'comment', docId: '<doc>', ref: 'r', command: { kind: 'resolve', threadId: 't' } },
        'ERR_COMMENTS_DISABLED',
      ],
    ];
    for (const [name, frame, code, detail] of table) {
      it(`${name} → ${code}${detail ? ` (${detail})` : ''}`, async () => {
        const raw = typeof frame === 'string' ? frame : JSON.stringify(frame).replace('<doc>', docId);
        attacker.send(raw);
        const err: Message = await attacker.next(ofType('error'));
        assert.equal(err.code, code, JSON.stringify(err));
        if (detail !== undefined) assert.equal(err.detail, detail);
        assert.equal(typeof err.message, 'string');
        assert.equal(typeof err.retriable, 'boolean');
        // Nothing reached the victim, and the document is unchanged.
        const check = track(await authed(svc.url, 'auditor'));
        check.send({ t: 'open', docId });
        assert.deepEqual(await check.next(), { t: 'snapshot', docId, version: 1, text: 'stable text' });
        assert.deepEqual(victim.pending(), []);
      });
    }

    it('a replayed seq is answered with the original ack, not applied twice', async () => {
      victim.send({ t: 'submit', docId, clientId: 'v', seq: 1, baseVersion: 0, op: ['stable text'] });
      assert.deepEqual(await victim.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
      assert.deepEqual(attacker.pending(), []);
    });

    it('a flood is rate limited with retryAfterMs, and the victim keeps working', async () => {
      const flooder = track(await authed(svc.url, 'flooder'));
      for (let i = 0; i < 6000; i++) flooder.send({ t: 'ping', id: i });
      const limited = await flooder.next(ofType('error'), 20_000);
      assert.equal(limited.code, 'ERR_RATE_LIMITED');
      assert.equal(limited.retriable, true);
      assert.ok(Number(limited.retryAfterMs) > 0);
      victim.send({ t: 'submit', docId, clientId: 'v', seq: 2, baseVersion: 1, op: [11, '.'] });
      assert.equal((await victim.next(ofType('ack'))).version, 2);
    });
  });
});
