/**
 * doc.comments against the simulated server (the core's decideComment): a create made while edits are pending
 * waits for their acks, its range moving with the text meanwhile, and what is sent after it waits behind it; a
 * refusal rejects the command's promise with the server's code; the threads shown move with pending edits while
 * `confirmed` stays the server's.
 */
import assert from 'node:assert/strict';
import type { ClientDocument, CollabClientError } from '../src/index.js';
import { CollabClient } from '../src/index.js';
import { FakeNetwork, ManualScheduler, Rng, SimServer } from '../src/testing/index.js';
import type { ClientMessage } from '@collab/protocol';

async function setup() {
  const rng = new Rng(7);
  const scheduler = new ManualScheduler();
  const server = new SimServer(rng, () => scheduler.now());
  const net = new FakeNetwork(scheduler, rng, server, { minDelayMs: 5, maxDelayMs: 5 });
  const client = new CollabClient({
    url: 'ws://sim',
    token: 'good',
    WebSocket: net.WebSocket,
    clientId: 'c1',
    scheduler,
    random: () => 0.5,
  });
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 5) {
      scheduler.advance(5);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const doc = await new Promise<ClientDocument>((resolve, reject) => {
    client.openDocument('d').then(resolve, reject);
    void run(100);
  });
  const sent = () =>
    net.framesToServer.map((f) => JSON.parse(f) as ClientMessage).filter((m) => m.t === 'comment' || m.t === 'submit');
  return { server, client, doc, run, sent };
}

describe('doc.comments (simulated server)', () => {
  it('a create waits for the pending edits, its range moving with the text meanwhile', async () => {
    const { doc, run, sent } = await setup();
    doc.insert(0, 'hello world');
    const created = doc.comment(6, 5, 'which world?'); // made while "hello world" is not acknowledged yet
    doc.insert(0, '>> '); // typed before it: the range moves to 9..14
    const before = sent().map((m) => m.t);
    assert.deepEqual(before, ['submit'], 'only the first edit is out: the create waits');
    await run(200);
    const threadId = await created;
    const create = sent().find((m) => m.t === 'comment');
    assert.ok(create?.t === 'comment' && create.command.kind === 'create');
    assert.deepEqual([create.command.anchor, create.command.version], [{ start: 9, end: 14 }, doc.version]);
    assert.deepEqual(doc.comments.confirmed.threads.get(threadId)?.anchor, { start: 9, end: 14 });
    // Shown moved through a pending edit; confirmed stays the server's until the edit is acknowledged.
    doc.insert(0, '!');
    assert.deepEqual(doc.comments.threads[0]?.anchor, { start: 10, end: 15 });
    assert.deepEqual(doc.comments.confirmed.threads.get(threadId)?.anchor, { start: 9, end: 14 });
    await run(100);
    assert.deepEqual(doc.comments.confirmed.threads.get(threadId)?.anchor, { start: 10, end: 15 });
  });

  it("a refusal rejects the command's promise with the server's code and changes nothing", async () => {
    const { doc, run } = await setup();
    const refused = doc.comments.reply('no-such-thread', 'hello?');
    const outcome = refused.then(
      () => 'resolved',
      (err: CollabClientError) => err.code,
    );
    await run(100);
    assert.equal(await outcome, 'ERR_COMMENT_NOT_FOUND');
    assert.equal(doc.comments.pendingCount, 0);
    assert.deepEqual(doc.comments.threads, []);
  });
});
