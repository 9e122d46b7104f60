/**
 * The HTTP read API against `collab serve` (the embedded mode, started the way users start it), attacked over real
 * sockets: time travel on a long history with no snapshot replays tens of thousands of ops per request, and the
 * WebSocket beside it must keep answering meanwhile; each principal has a request rate. Counted, never timed:
 * with replays done a page per turn of the event loop, many ping round trips complete while they run; done in
 * one go (the replay blocking the loop), only a handful can.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import { signDevToken } from '@collab/command-service';
import type { OpCommitted } from '@collab/core';
import { cleanEnv, startServer, tempDataDir, until, type ServerProcess } from './support/cli.js';
import { WsProbe } from './support/ws-probe.js';

const SECRET = 'read-api-load-test-secret-0123456789abcdef';
const DOC = 'long-history';
const VERSIONS = 40_000;
const PARALLEL = 4;

/**
 * The log of a document typed one character at a time, written before the server starts (fast to set up). One op
 * a second by commit time: a document committing faster is "hot" to the snapshot worker (snapshot-service
 * policy.ts), which then snapshots it every 100 versions whatever COLLAB_SNAPSHOT_EVERY says, and replays become
 * short (the test then passed or failed by how far the worker had caught up).
 */
async function writeLongHistory(dataDir: string): Promise<void> {
  const storage = await createSqliteStorage({ path: join(dataDir, 'collab.db'), partitionCount: 8 });
  try {
    const writer = await storage.opLog.openWriter(storage.opLog.partitionFor(DOC));
    for (let from = 1; from <= VERSIONS; from += 2_000) {
      const batch: { value: OpCommitted }[] = [];
      for (let version = from; version < from + 2_000; version++) {
        const op = version === 1 ? ['a'] : [version - 1, String.fromCharCode(97 + (version % 26))];
        batch.push({
          value: {
            docId: DOC,
            version,
            op,
            baseVersion: version - 1,
            clientId: 'typist',
            seq: version,
            userId: 'typist',
            timestamp: Date.UTC(2026, 0, 1) + version * 1_000,
          },
        });
      }
      await writer.append(batch);
    }
    await writer.close();
  } finally {
    await storage.close();
  }
}

describe('collab serve: the read API under load (real sockets)', function () {
  this.timeout(180_000);
  const data = tempDataDir();
  let server: ServerProcess;
  const token = (userId: string) => signDevToken({ secret: SECRET, userId, docs: { '*': ['read', 'write'] } });
  const read = async (userId: string, query: string) =>
    fetch(`${server.url}/v1/docs/${DOC}?${query}`, { headers: { authorization: `Bearer ${await token(userId)}` } });

  before(async () => {
    await writeLongHistory(data.dir);
    server = await startServer(
      data.dir,
      0,
      cleanEnv({
        COLLAB_JWT_SECRET: SECRET,
        // No snapshot is ever taken (nor a hot one: see writeLongHistory): every time-travel request replays from
        // version 0.
        COLLAB_SNAPSHOT_EVERY: '100000000',
        COLLAB_READS_PER_SECOND: '2',
      }),
    );
    // The projection writes the read models from the log after start.
    await until(
      'the read models have the whole history',
      async () =>
        ((await (await read('setup', 'version=1')).json()) as { version?: number }).version === 1 &&
        (await read(`setup-${Date.now()}`, `version=${VERSIONS}`)).status === 200,
      120_000,
    );
  });
  after(async () => {
    await server?.stop('SIGTERM');
    data.remove();
  });

  it('the WebSocket keeps answering while expensive time-travel requests are in flight', async () => {
    const probe = await WsProbe.connect(server.wsUrl, await token('pinger'));
    try {
      let done = false;
      // Distinct principals (each within its rate) and versions: nothing to share between the requests.
      const reads = Promise.all(
        Array.from({ length: PARALLEL }, (_, i) => read(`reader-${i}`, `version=${VERSIONS - 1 - i}`)),
      ).finally(() => {
        done = true;
      });
      let pongs = 0;
      while (!done) {
        probe.send({ t: 'ping', id: pongs });
        const id = pongs;
        await probe.next((m) => m.t === 'pong' && m.id === id);
        if (!done) pongs++;
      }
      const responses = await reads;
      for (const [i, res] of responses.entries()) {
        assert.equal(res.status, 200);
        const body = (await res.json()) as { version: number; text: string };
        assert.equal(body.version, VERSIONS - 1 - i);
        assert.equal(body.text.length, VERSIONS - 1 - i);
      }
      // 4 replays of ~40,000 ops in pages of 500: some 320 pages, at most 2 running at once, a ping served between
      // pages. Blocking replays leave a gap for a pong only between requests (a handful at most).
      assert.ok(pongs >= 20, `only ${pongs} ping round trips completed while ${PARALLEL} replays ran`);
    } finally {
      probe.close();
    }
  });

  it('each principal has a request rate: beyond its burst, 429 ERR_RATE_LIMITED with Retry-After; others are served', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await read('alice', 'version=1');
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.arrayBuffer();
    }
    // Burst of twice the rate (2/s): 4 at once, and the 10 requests take far less than the 3 s that would refill 6.
    assert.ok(statuses.filter((s) => s === 429).length >= 4, statuses.join(','));
    assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
    assert.ok(limited !== undefined);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(((await limited.json()) as { code: string }).code, 'ERR_RATE_LIMITED');
    assert.equal((await read('bob', 'version=1')).status, 200);
  });
});
