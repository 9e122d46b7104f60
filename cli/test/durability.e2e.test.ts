/**
 * THE durability test of the embedded mode: SDK clients type into shared documents, the server is SIGKILLed
 * mid-stream and restarted on the same data folder and port, the clients reconnect on their own. Then:
 * every op any client saw acknowledged is in the log at the acknowledged version, no version gap, no duplicate
 * (clientId, seq), every client converges to the log's text; and after a clean restart (SIGTERM, start) every
 * document reads back exactly as before. Seeded; the seed is in the test name (TEST_SEED to replay one).
 */
import assert from 'node:assert/strict';
import type { ClientDocument, CollabClient } from '@collab/client';
import {
  cli,
  devToken,
  restartServer,
  sdkClient,
  startServer,
  tempDataDir,
  until,
  type ServerProcess,
} from './support/cli.js';
import { assertWellFormedHistory, parseNdjson, replayText } from './support/oracle.js';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOCS = ['shared-a', 'shared-b'];
const CLIENTS = 3;
const OPS_PER_CLIENT = 150;

interface Typist {
  client: CollabClient;
  docs: ClientDocument[];
  /** `${docId} ${seq}` → the version the server acknowledged. */
  acked: Map<string, number>;
}

describe('embedded durability: SIGKILL mid-stream, restart, reconnect', function () {
  this.timeout(420_000);
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const data = tempDataDir();
  const dataDir = ['--data-dir', data.dir];
  let server: ServerProcess | undefined;
  const typists: Typist[] = [];

  after(async () => {
    for (const t of typists) t.client.close();
    if (server !== undefined && server.child.exitCode === null) await server.stop('SIGKILL');
    data.remove();
  });

  it(`loses no acknowledged op, duplicates none, converges, and survives a clean restart (seed ${seed})`, async () => {
    const random = seeded(seed);
    server = await startServer(data.dir);
    const { port, wsUrl } = server;
    const token = await devToken(server.url, 'typist');

    for (let i = 0; i < CLIENTS; i++) {
      const client = sdkClient(wsUrl, token);
      const docs = await Promise.all(DOCS.map((d) => client.openDocument(d)));
      const acked = new Map<string, number>();
      docs.forEach((doc, j) => doc.on('ack', ({ seq, version }) => acked.set(`${DOCS[j]} ${seq}`, version)));
      typists.push({ client, docs, acked });
    }
    const ackCount = () => typists.reduce((n, t) => n + t.acked.size, 0);

    // Everyone types (inserts and deletes at random places) while the server is killed and restarted.
    let typed = 0;
    const typing = Promise.all(
      typists.map(async (t, i) => {
        for (let n = 0; n < OPS_PER_CLIENT; n++) {
          const doc = t.docs[Math.floor(random() * t.docs.length)]!;
          const at = Math.floor(random() * (doc.length + 1));
          if (doc.length > 10 && random() < 0.25) doc.delete(Math.min(at, doc.length - 1), 1);
          else doc.insert(at, String.fromCharCode(97 + ((i * 7 + n) % 26)));
          typed++;
          await new Promise((r) => setTimeout(r, 5 + Math.floor(random() * 10))); // typing pace
        }
      }),
    );

    await until(
      'a quarter is typed and some ops are acknowledged',
      () => typed >= (CLIENTS * OPS_PER_CLIENT) / 4 && ackCount() >= 10,
    );
    const killed = await server.stop('SIGKILL');
    assert.equal(killed, 'SIGKILL');
    const ackedBeforeKill = ackCount();
    assert.ok(typed < CLIENTS * OPS_PER_CLIENT, 'the kill came after all typing: not mid-stream');
    server = await restartServer(data.dir, port);
    await typing;
    await until(
      'every client has every edit acknowledged',
      () => typists.every((t) => t.client.pendingCount === 0),
      60_000,
    );
    assert.ok(ackCount() > ackedBeforeKill, 'no op was acknowledged after the restart');

    const histories = new Map<string, ReturnType<typeof parseNdjson>>();
    for (const docId of DOCS) {
      const ops = parseNdjson(await cli(['export', docId, ...dataDir]));
      assertWellFormedHistory(ops);
      histories.set(docId, ops);
      const text = replayText(ops);
      // Convergence: every client reaches the log's head and text (remote ops may still be in flight).
      for (const t of typists) {
        const doc = t.docs[DOCS.indexOf(docId)]!;
        await until(`a client reaches ${docId} v${ops.length}`, () => doc.version === ops.length);
        assert.equal(doc.text, text, `a client diverged on ${docId}`);
      }
    }

    // Every acknowledged op is in the log, at the version its ack named, from that client.
    for (const t of typists) {
      for (const [key, version] of t.acked) {
        const [docId, seq] = key.split(' ') as [string, string];
        const op = histories.get(docId)![version - 1];
        assert.ok(op !== undefined, `acked ${key} at v${version} is not in the log`);
        assert.equal(op.clientId, t.client.clientId, `v${version} of ${docId} is not the acked op ${key}`);
        assert.equal(op.seq, Number(seq), `v${version} of ${docId} is not the acked op ${key}`);
      }
    }
    const totalOps = [...histories.values()].reduce((n, ops) => n + ops.length, 0);
    assert.ok(totalOps >= ackCount(), 'fewer ops in the log than acknowledgements');

    // Clean restart: wait for the read models, record every document, SIGTERM, start again, compare.
    const readBack = async () => {
      const out: Record<string, unknown> = {};
      for (const docId of DOCS) out[docId] = JSON.parse(await cli(['doc', 'get', docId, '--json', ...dataDir]));
      return out;
    };
    for (const docId of DOCS) {
      const head = histories.get(docId)!.length;
      await until(`${docId} is projected to v${head}`, async () => {
        const doc = JSON.parse(await cli(['doc', 'get', docId, '--json', ...dataDir])) as { version: number };
        return doc.version === head;
      });
    }
    const before = await readBack();
    for (const docId of DOCS) {
      assert.deepEqual(before[docId], {
        docId,
        version: histories.get(docId)!.length,
        text: replayText(histories.get(docId)!),
      });
    }
    assert.equal(await server.stop('SIGTERM'), 0, 'a clean stop exits 0');
    server = await restartServer(data.dir, port);
    assert.deepEqual(await readBack(), before);
    for (const docId of DOCS) {
      assert.deepEqual(parseNdjson(await cli(['export', docId, ...dataDir])), histories.get(docId));
      const r = await fetch(`${server.url}/v1/docs/${docId}`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await r.json(), before[docId]);
    }
  });
});
