/**
 * The dedupe key is bound to the authenticated user (architecture invariant 2), attacked for real: a second user
 * on a real socket copies a victim's clientId from an op broadcast and submits under it, against one instance and
 * through forwarding between two (where the origin finds its waiting submission by that key). The attack never
 * makes the victim's op count as a duplicate or acks it with someone else's op: the attacker is refused
 * ERR_CLIENT_ID_TAKEN, and every op the victim was acked is in the log, as the victim's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ClientDocument, CollabClient } from '@collab/client';
import { CollabClient as Client } from '@collab/client';
import WebSocket from 'ws';
import { readDocs } from './support/convergence.js';
import type { ForwardingPair } from './support/forwarding-pair.js';
import { startForwardingPair } from './support/forwarding-pair.js';
import { until } from './support/processes.js';
import type { Message } from './support/raw-client.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, startService, token } from './support/service.js';

async function authed(url: string, userId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

async function opened(c: RawClient, docId: string): Promise<void> {
  c.send({ t: 'open', docId });
  await c.next((m) => m.docId === docId && (m.t === 'snapshot' || m.t === 'catchup'));
}

const isAnswer = (seq: number) => (m: Message) => (m.t === 'ack' || m.t === 'error') && m.seq === seq;

/** Every ack `acks` holds is, in the log, the op of `userId` with that clientId and seq, at that version. */
async function assertAckedOpsStored(
  t: TestTopic,
  docId: string,
  userId: string,
  acks: ReadonlyArray<{ clientId: string; seq: number; version: number; op: unknown }>,
): Promise<void> {
  const records = (await readDocs(t, [docId])).get(docId)!;
  for (const a of acks) {
    const r = records.find((x) => x.version === a.version);
    assert.deepEqual(
      r && { userId: r.userId, clientId: r.clientId, seq: r.seq, op: r.op },
      { userId, clientId: a.clientId, seq: a.seq, op: a.op },
      `${userId}'s op acked at v${a.version} is in the log as theirs`,
    );
  }
}

function sdk(url: string, userId: string): CollabClient {
  return new Client({
    url,
    token: () => token(userId),
    WebSocket: WebSocket as never,
    reconnect: { initialMs: 50, maxMs: 500 },
  });
}

const settled = (doc: ClientDocument) => until('the edits are acknowledged', () => doc.pendingCount === 0 || undefined);

describe('dedupe bound to the user (real Kafka, real sockets)', function () {
  this.timeout(120_000);

  describe('one instance', () => {
    let t: TestTopic;
    let svc: RunningService;
    const sockets: RawClient[] = [];
    const clients: CollabClient[] = [];
    const raw = async (userId: string) => {
      const c = await authed(svc.url, userId);
      sockets.push(c);
      return c;
    };

    before(async () => {
      t = await freshTopic(2);
      svc = await startService(t);
    });
    after(async () => {
      for (const c of sockets) c.close();
      for (const c of clients) c.close();
      await svc?.stop();
    });

    it("an op under the victim's clientId and next seq is refused; the victim's own op is stored and acked", async () => {
      const docId = `doc-${randomUUID()}`;
      const victim = await raw('victim');
      const mallory = await raw('mallory');
      await opened(victim, docId);
      await opened(mallory, docId);
      victim.send({ t: 'submit', docId, clientId: 'cv', seq: 1, baseVersion: 0, op: ['a'] });
      assert.deepEqual(await victim.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
      // The broadcast tells Mallory the victim's clientId and seq.
      const seen = await mallory.next(ofType('op'));
      mallory.send({
        t: 'submit',
        docId,
        clientId: seen.clientId,
        seq: Number(seen.seq) + 1,
        baseVersion: 1,
        op: ['X'],
      });
      const refused = await mallory.next(isAnswer(2));
      assert.equal(refused.code, 'ERR_CLIENT_ID_TAKEN', JSON.stringify(refused));
      assert.equal(refused.retriable, false);
      assert.equal(refused.docId, docId);
      // The victim's next op, made before it could have seen Mallory's: sequenced, not taken for a duplicate.
      victim.send({ t: 'submit', docId, clientId: 'cv', seq: 2, baseVersion: 1, op: [1, 'b'] });
      assert.deepEqual(await victim.next(isAnswer(2)), { t: 'ack', docId, seq: 2, version: 2 });
      await assertAckedOpsStored(t, docId, 'victim', [
        { clientId: 'cv', seq: 1, version: 1, op: ['a'] },
        { clientId: 'cv', seq: 2, version: 2, op: [1, 'b'] },
      ]);
      assert.equal((await readDocs(t, [docId])).get(docId)!.length, 2, "Mallory's op is not in the log");
    });

    it('the SDK keeps editing a document where its clientId was taken first: it moves to a new clientId', async () => {
      const [first, second] = [`doc-${randomUUID()}`, `doc-${randomUUID()}`];
      const victim = sdk(svc.url, 'victim');
      clients.push(victim);
      const mallory = await raw('mallory');
      await opened(mallory, first);
      const one = await victim.openDocument(first);
      one.insert(0, 'hi');
      const seen = await mallory.next(ofType('op'));
      assert.equal(seen.clientId, victim.clientId);
      // Mallory squats the victim's clientId in a document the victim has not edited yet.
      await opened(mallory, second);
      mallory.send({ t: 'submit', docId: second, clientId: victim.clientId, seq: 1, baseVersion: 0, op: ['m'] });
      assert.deepEqual(await mallory.next(isAnswer(1)), { t: 'ack', docId: second, seq: 1, version: 1 });
      const two = await victim.openDocument(second);
      const errors: string[] = [];
      two.on('error', (e) => errors.push(e.code));
      two.insert(1, 'victim text');
      await settled(two);
      assert.deepEqual(errors, ['ERR_CLIENT_ID_TAKEN']);
      const records = (await readDocs(t, [second])).get(second)!;
      assert.deepEqual(
        records.map((r) => [r.userId, r.op]),
        [
          ['mallory', ['m']],
          ['victim', [1, 'victim text']],
        ],
      );
      assert.notEqual(records[1]!.clientId, victim.clientId, 'the victim went on under a new clientId');
      assert.equal(two.text, 'mvictim text');
    });
  });

  describe('two instances: the victim on the one that forwards', () => {
    let pair: ForwardingPair;
    const sockets: RawClient[] = [];

    before(async () => {
      pair = await startForwardingPair();
    });
    after(async () => {
      for (const c of sockets) c.close();
      await pair?.stop();
    });

    const raw = async (url: string, userId: string) => {
      const c = await authed(url, userId);
      sockets.push(c);
      return c;
    };

    it("a forwarded op is not answered as a duplicate of the attacker's (refused ERR_CLIENT_ID_TAKEN instead)", async () => {
      const docId = `doc-${randomUUID()}`;
      const victim = await raw(pair.origin.url, 'victim');
      const mallory = await raw(pair.owner.url, 'mallory');
      await opened(victim, docId);
      await opened(mallory, docId);
      victim.send({ t: 'submit', docId, clientId: 'cv', seq: 1, baseVersion: 0, op: ['a'] });
      assert.deepEqual(await victim.next(isAnswer(1)), { t: 'ack', docId, seq: 1, version: 1 });
      const seen = await mallory.next(ofType('op'));
      mallory.send({ t: 'submit', docId, clientId: seen.clientId, seq: 2, baseVersion: 1, op: ['X'] });
      assert.equal((await mallory.next(isAnswer(2))).code, 'ERR_CLIENT_ID_TAKEN');
      victim.send({ t: 'submit', docId, clientId: 'cv', seq: 2, baseVersion: 1, op: [1, 'b'] });
      assert.deepEqual(await victim.next(isAnswer(2)), { t: 'ack', docId, seq: 2, version: 2 });
      await assertAckedOpsStored(pair.t, docId, 'victim', [
        { clientId: 'cv', seq: 1, version: 1, op: ['a'] },
        { clientId: 'cv', seq: 2, version: 2, op: [1, 'b'] },
      ]);
    });

    it("the attacker's commit under the same (clientId, seq) does not ack the victim's waiting forward", async () => {
      const docId = `doc-${randomUUID()}`;
      const victim = await raw(pair.origin.url, 'victim');
      const mallory = await raw(pair.owner.url, 'mallory');
      await opened(victim, docId);
      await opened(mallory, docId);
      const { held, release } = pair.hold();
      try {
        // The victim's op waits at its instance for an outcome, keyed by what identifies it.
        victim.send({ t: 'submit', docId, clientId: 'cv', seq: 1, baseVersion: 0, op: ['victim'] });
        await held;
        // Mallory, who saw "cv" elsewhere, commits under it first: nothing in this document holds it yet.
        mallory.send({ t: 'submit', docId, clientId: 'cv', seq: 1, baseVersion: 0, op: ['m'] });
        assert.deepEqual(await mallory.next(isAnswer(1)), { t: 'ack', docId, seq: 1, version: 1 });
        // The origin relays Mallory's op to the victim: it is someone else's op, not the victim's ack.
        const relayed = await victim.next(ofType('op'));
        assert.equal(relayed.userId, 'mallory');
        assert.deepEqual(
          victim.pending().filter((m) => m.t === 'ack'),
          [],
        );
      } finally {
        release();
      }
      const answer = await victim.next(isAnswer(1));
      assert.equal(
        answer.code,
        'ERR_CLIENT_ID_TAKEN',
        `the victim was told the truth, not acked: ${JSON.stringify(answer)}`,
      );
      // Under a clientId of its own, the victim's op goes through.
      victim.send({ t: 'submit', docId, clientId: 'cv-2', seq: 1, baseVersion: 1, op: [1, 'victim'] });
      assert.deepEqual(await victim.next(isAnswer(1)), { t: 'ack', docId, seq: 1, version: 2 });
      await assertAckedOpsStored(pair.t, docId, 'victim', [
        { clientId: 'cv-2', seq: 1, version: 2, op: [1, 'victim'] },
      ]);
    });
  });
});
