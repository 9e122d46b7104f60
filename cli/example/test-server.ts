import assert from 'node:assert/strict';
import { CollabClient, type ClientDocument } from '@collab/client';
import { startTestServer } from '@collab/cli/testing';
import WebSocket from 'ws';

/** Resolves once every edit of `doc` is acknowledged (durable on the server). */
const saved = (doc: ClientDocument) =>
  new Promise<void>((resolve) => {
    if (doc.pendingCount === 0) return resolve();
    doc.on('pending', ({ count }) => count === 0 && resolve());
  });

export async function twoPeopleEditOneDocument(): Promise<string> {
  const server = await startTestServer(); // a free port, a fresh data folder
  const alice = new CollabClient({ url: server.wsUrl, token: () => server.token('alice'), WebSocket });
  const bob = new CollabClient({ url: server.wsUrl, token: () => server.token('bob'), WebSocket });
  try {
    const mine = await alice.openDocument('notes');
    const theirs = await bob.openDocument('notes');
    mine.insert(0, 'Hello');
    theirs.insert(0, 'World'); // at the same time, at the same place
    await Promise.all([saved(mine), saved(theirs)]);
    // Someone who opens the document now gets both edits, in the order the server gave them.
    const carol = new CollabClient({ url: server.wsUrl, token: () => server.token('carol'), WebSocket });
    const { text } = await carol.openDocument('notes');
    await carol.close();
    assert.ok(text === 'HelloWorld' || text === 'WorldHello', `got ${JSON.stringify(text)}`);
    return text;
  } finally {
    await Promise.all([alice.close(), bob.close()]);
    await server.close(); // the data folder goes with it
  }
}
