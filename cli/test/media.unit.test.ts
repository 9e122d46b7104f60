/**
 * Media in the embedded mode: the data-folder store against the MediaStore contract, and the HTTP routes of a real
 * embedded server (`collab serve` in this process) against the media API contract, on both WebSocket edges
 * (uWebSockets.js and node:http each count an upload's bytes as they arrive).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeTransport } from '@collab/command-service';
import { MEDIA_API_TEST_MAX_BYTES, mediaApiContract, mediaStoreContract } from '@collab/contracts';
import { createFolderMediaStore, MEDIA_FOLDER } from '../src/storage/media-folder.js';
import { startTestServer, type TestServer } from '../src/testing.js';

describe('media in the embedded mode', function () {
  const folders: string[] = [];
  const servers: TestServer[] = [];
  after(async function () {
    for (const server of servers) await server.close();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  mediaStoreContract('data folder', () => {
    const folder = mkdtempSync(join(tmpdir(), 'collab-media-'));
    folders.push(folder);
    return createFolderMediaStore(folder);
  });

  // Both WebSocket servers where uWebSockets.js has a binary for this Node.js (20), ws alone elsewhere (Node 24).
  for (const transport of edgeTransport() === 'uws' ? ['uws', 'ws'] : ['ws']) {
    mediaApiContract(`embedded server (${transport})`, async () => {
      const started = await startTestServer({
        env: { COLLAB_MEDIA_MAX_BYTES: String(MEDIA_API_TEST_MAX_BYTES), COLLAB_EDGE_TRANSPORT: transport },
      });
      servers.push(started);
      const store = createFolderMediaStore(join(started.dataDir, MEDIA_FOLDER));
      return {
        url: started.url,
        token: (userId, docs) => started.token(userId, { docs }),
        storedIds: async () => (await store.list()).map((e) => e.id),
      };
    });
  }
});
