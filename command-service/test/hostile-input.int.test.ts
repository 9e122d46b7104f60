/**
 * Hostile ops and ids on real sockets against real command-services on real Kafka: an op nested deeper than the
 * stack is ERR_OP_INVALID for its sender (never ERR_INTERNAL, nothing logged as a server error), on the instance
 * that sequences the document and on one that forwards it; ids with unpaired surrogates (which UTF-8 storage would
 * turn into other ids) are refused where they arrive. Nothing reaches the log or the other clients.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { signDevToken } from '../src/auth/tokens.js';
import { readDocs } from './support/convergence.js';
import type { ForwardingPair } from './support/forwarding-pair.js';
import { startForwardingPair } from './support/forwarding-pair.js';
import type { Message } from './support/raw-client.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, SECRET, startService, TEST_LIMITS, token } from './support/service.js';

async function authed(url: string, userId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

/** An op whose only component is an array nested `depth` deep (JSON.stringify and String() overflow on it). */
function nestedOp(depth: number): string {
  return `${'['.repeat(depth + 1)}"x"${']'.repeat(depth + 1)}`;
}

/** A logger that keeps what is logged at error level and above (the server logs unexpected errors there). */
function errorLog(): { logger: pino.Logger; errors: string[] } {
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      errors.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'error' }, sink), errors };
}

/** Alice opens a fresh document; the attacker opens it too and sends `frame` (with `<doc>` replaced). */
async function attack(attackerUrl: string, aliceUrl: string, frame: string): Promise<{ err: Message; docId: string }> {
  const docId = `doc-${randomUUID()}`;
  const alice = await authed(aliceUrl, 'alice');
  const attacker = await authed(attackerUrl, 'mallory');
  try {
    for (const c of [alice, attacker]) {
      c.send({ t: 'open', docId });
      await c.next(ofType('snapshot'));
    }
    attacker.send(frame.replace('<doc>', docId));
    const err = await attacker.next(ofType('error'));
    // Alice still works, and saw nothing of it.
    alice.send({ t: 'submit', docId, clientId: 'ca', seq: 1, baseVersion: 0, op: ['ok'] });
    assert.deepEqual(await alice.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
    assert.deepEqual(
      alice.pending().filter((m) => m.t === 'error'),
      [],
    );
    return { err, docId };
  } finally {
    alice.close();
    attacker.close();
  }
}

const submitFrame = (clientId: string, op: string) =>
  `{"t":"submit","docId":"<doc>","clientId":${clientId},"seq":1,"baseVersion":0,"op":${op}}`;

describe('hostile ops and ids (real Kafka, real sockets)', function () {
  this.timeout(120_000);
  const deep = nestedOp(30_000);

  before(() => {
    assert.ok(submitFrame('"c"', deep).length < TEST_LIMITS.maxFrameBytes, 'the attack fits in one frame');
  });

  describe('one instance', () => {
    let t: TestTopic;
    let svc: RunningService;
    const log = errorLog();

    before(async () => {
      t = await freshTopic(2);
      svc = await startService(t, { logger: log.logger });
    });
    after(() => svc?.stop());

    it('an op nested 30,000 deep is ERR_OP_INVALID (ERR_OP_COMPONENT_TYPE), with no server error logged', async () => {
      const { err, docId } = await attack(svc.url, svc.url, submitFrame('"c"', deep));
      assert.deepEqual(
        [err.code, err.detail, err.retriable, err.docId, err.seq],
        ['ERR_OP_INVALID', 'ERR_OP_COMPONENT_TYPE', false, docId, 1],
      );
      assert.deepEqual(log.errors, []);
      assert.deepEqual(
        (await readDocs(t, [docId])).get(docId)!.map((r) => r.userId),
        ['alice'],
      );
    });

    it('a clientId with an unpaired surrogate is ERR_INVALID_MESSAGE (stored, it would be another id)', async () => {
      const { err, docId } = await attack(svc.url, svc.url, submitFrame('"c\\ud800"', '["x"]'));
      assert.equal(err.code, 'ERR_INVALID_MESSAGE', JSON.stringify(err));
      assert.match(String(err.message), /clientId/);
      assert.deepEqual(
        (await readDocs(t, [docId])).get(docId)!.map((r) => r.userId),
        ['alice'],
      );
    });

    it('a token whose subject has an unpaired surrogate is ERR_TOKEN_INVALID', async () => {
      const c = await RawClient.connect(svc.url);
      try {
        c.send({
          t: 'auth',
          token: await signDevToken({ secret: SECRET, userId: 'alice\ud800', docs: { '*': ['read', 'write'] } }),
          protocol: 1,
        });
        assert.equal((await c.next()).code, 'ERR_TOKEN_INVALID');
      } finally {
        c.close();
      }
    });
  });

  describe('two instances: the attacker on the one that forwards', () => {
    let pair: ForwardingPair;

    before(async () => {
      pair = await startForwardingPair();
    });
    after(() => pair?.stop());

    it('an op nested 30,000 deep is ERR_OP_INVALID at the forwarding instance too, and never forwarded', async () => {
      const { err, docId } = await attack(pair.origin.url, pair.owner.url, submitFrame('"c"', deep));
      assert.deepEqual([err.code, err.detail, err.retriable], ['ERR_OP_INVALID', 'ERR_OP_COMPONENT_TYPE', false]);
      assert.deepEqual(
        (await readDocs(pair.t, [docId])).get(docId)!.map((r) => r.userId),
        ['alice'],
      );
    });
  });
});
