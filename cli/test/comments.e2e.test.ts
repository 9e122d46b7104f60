/**
 * Comment threads through `collab serve` (a real process, SQLite): two SDK clients see each other's threads live;
 * one offline while the other edits and comments catches up on reconnect (the text's catch-up, then the threads
 * whole); and after a SIGKILL and a restart on the same data folder every acknowledged thread is back, anchors
 * and all.
 */
import assert from 'node:assert/strict';
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import { laggySocketClass } from '@collab/client/testing';
import WebSocket from 'ws';
import {
  devToken,
  restartServer,
  sdkClient,
  startServer,
  tempDataDir,
  until,
  type ServerProcess,
} from './support/cli.js';

const DOC = 'reviewed-notes';

const saved = (doc: ClientDocument) => until('every edit is acknowledged', () => doc.pendingCount === 0);
const view = (doc: ClientDocument) =>
  doc.comments.threads.map((t) => ({
    anchor: t.anchor,
    resolved: t.resolved,
    messages: t.messages.map((m) => `${m.authorId}: ${m.text}`),
  }));

describe('comment threads through collab serve', function () {
  this.timeout(180_000);
  const data = tempDataDir();
  let server: ServerProcess | undefined;
  const clients: CollabClient[] = [];

  after(async () => {
    for (const client of clients) client.close();
    if (server !== undefined && server.child.exitCode === null) await server.stop('SIGKILL');
    data.remove();
  });

  it('live to both clients, caught up after a reconnect, and durable across a SIGKILL and restart', async () => {
    server = await startServer(data.dir);
    const alice = sdkClient(server.wsUrl, await devToken(server.url, 'alice'));
    // Bob's connection can be cut, and his next sign-in held back until we let it through.
    const { LaggySocket, sockets } = laggySocketClass(WebSocket, () => 0, 0);
    let letBobIn: () => void = () => {};
    let gate: Promise<void> = Promise.resolve();
    const bobToken = await devToken(server.url, 'bob');
    const bob = new CollabClient({
      url: server.wsUrl,
      token: async () => {
        await gate;
        return bobToken;
      },
      WebSocket: LaggySocket,
      reconnect: { initialMs: 20, maxMs: 200, factor: 2, jitter: 1 },
    });
    clients.push(alice, bob);
    const mine = await alice.openDocument(DOC);
    const theirs = await bob.openDocument(DOC);

    // Live: alice comments on "world"; bob sees it, replies; alice sees the reply.
    mine.insert(0, 'Hello world');
    await saved(mine);
    const threadId = await mine.comment(6, 5, 'Which world?');
    await until('bob sees the thread', () => theirs.comments.threads.length === 1);
    assert.deepEqual(view(theirs), [
      { anchor: { start: 6, end: 11 }, resolved: false, messages: ['alice: Which world?'] },
    ]);
    await theirs.comments.reply(threadId, 'This one.');
    await until('alice sees the reply', () => mine.comments.threads[0]?.messages.length === 2);

    // Bob goes offline (his sign-in held back); alice edits before the thread, resolves it and starts another.
    gate = new Promise((resolve) => (letBobIn = resolve));
    sockets.at(-1)!.kill();
    await until('bob is offline', () => bob.state !== 'online');
    mine.insert(0, 'Oh, ');
    await saved(mine);
    await mine.comments.resolve(threadId);
    const second = await mine.comment(0, 3, 'Too casual?');
    assert.equal(bob.state === 'online', false, 'all of that happened while bob was away');
    const expected = [
      { anchor: { start: 10, end: 15 }, resolved: true, messages: ['alice: Which world?', 'bob: This one.'] },
      { anchor: { start: 0, end: 3 }, resolved: false, messages: ['alice: Too casual?'] },
    ];
    assert.deepEqual(view(mine), expected);
    letBobIn();
    await until('bob caught up', () => theirs.version === mine.version && theirs.comments.isLoaded);
    assert.equal(theirs.text, 'Oh, Hello world');
    assert.deepEqual(view(theirs), expected);
    assert.ok(theirs.comments.threads.some((t) => t.threadId === second));

    // Durable: SIGKILL, restart on the same folder; a new reader gets every thread back as it was.
    const before = mine.comments.confirmed;
    await server.stop('SIGKILL');
    server = await restartServer(data.dir, server.port);
    const carol = sdkClient(server.wsUrl, await devToken(server.url, 'carol'));
    clients.push(carol);
    const fresh = await carol.openDocument(DOC);
    await until('carol has the threads', () => fresh.comments.isLoaded);
    assert.equal(fresh.version, before.version);
    assert.deepEqual(fresh.comments.confirmed.threads, before.threads);
    assert.deepEqual(view(fresh), expected);
    // And alice, reconnected on her own, still agrees and can go on.
    await until('alice is back', () => mine.comments.isLoaded && alice.state === 'online');
    await mine.comments.reopen(threadId);
    await until('carol sees it reopened', () => fresh.comments.threads[0]?.resolved === false);
  });
});
