/**
 * @collab/testcontainers against the real CLI image (built by `npm run images:services`, or here when missing):
 * the README's example as it is (example/collab-container.ts, which the README quotes), and tokens minted in the
 * container honoured by its server — a read-only token cannot write.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CollabClient, type ClientDocument } from '@collab/client';
import { ensureServiceImages } from '@collab/infra';
import WebSocket from 'ws';
import { editThroughAContainer } from '../example/collab-container.js';
import { CollabContainer, type StartedCollabContainer } from '../src/index.js';

describe('@collab/testcontainers: CollabContainer', function () {
  this.timeout(300_000);
  let image: string;

  before(async () => {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // no registry here for Ryuk's image; we stop what we start
    image = (await ensureServiceImages()).cli;
  });

  it('the README quotes the example as it is', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.equal(block, readFileSync(new URL('../example/collab-container.ts', import.meta.url), 'utf8'));
  });

  it('runs the example: an edit through the container, read back by a reader', async () => {
    assert.equal(await editThroughAContainer(image), 'Hello from a container');
  });

  describe('tokens minted in the container', () => {
    let collab: StartedCollabContainer;
    before(async () => {
      collab = await new CollabContainer(image).start();
    });
    after(async () => {
      await collab?.stop();
    });

    it('a read-only token opens the document and its edit is refused (ERR_FORBIDDEN), changing nothing', async () => {
      const client = new CollabClient({
        url: collab.wsUrl,
        token: () => collab.token('rita', { docs: ['notes:read'] }),
        WebSocket,
      });
      try {
        const doc: ClientDocument = await client.openDocument('notes');
        const refused = new Promise<string>((resolve) => doc.on('error', ({ code }) => resolve(code)));
        doc.insert(0, 'not allowed');
        assert.equal(await refused, 'ERR_FORBIDDEN');
      } finally {
        await client.close();
      }
      const res = await fetch(`${collab.url}/v1/docs/notes`, {
        headers: { authorization: `Bearer ${await collab.token('auditor')}` },
      });
      assert.ok(res.status === 404 || ((await res.json()) as { text: string }).text === '', 'nothing was written');
    });

    it('names the failure when collab token refuses (a bad grant)', async () => {
      await assert.rejects(collab.token('x', { docs: ['notes:fly'] }), /collab token --user x failed/);
    });
  });
});
