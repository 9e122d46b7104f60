import assert from 'node:assert/strict';
import { CollabClient } from '@collab/client';
import { CollabContainer } from '@collab/testcontainers';
import WebSocket from 'ws';

/** Starts the server from `image` (the CLI image), edits a document through it, reads it back, stops it. */
export async function editThroughAContainer(image: string): Promise<string> {
  const collab = await new CollabContainer(image).start();
  try {
    const client = new CollabClient({ url: collab.wsUrl, token: () => collab.token('alice'), WebSocket });
    const doc = await client.openDocument('notes');
    doc.insert(0, 'Hello from a container');
    await new Promise<void>((resolve) => {
      if (doc.pendingCount === 0) return resolve();
      doc.on('pending', ({ count }) => count === 0 && resolve());
    });
    await client.close();

    // A reader may read, not write: its token says so.
    const reader = new CollabClient({
      url: collab.wsUrl,
      token: () => collab.token('rita', { docs: ['notes:read'] }),
      WebSocket,
    });
    const { text } = await reader.openDocument('notes');
    await reader.close();
    assert.equal(text, 'Hello from a container');
    return text;
  } finally {
    await collab.stop();
  }
}
