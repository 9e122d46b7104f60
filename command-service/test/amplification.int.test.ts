/**
 * What a request may cost, on the distributed path (real Kafka, Cassandra and S3, the real projection-service):
 * where the code differs from the embedded mode — a catch-up reaching behind the in-memory window reads the older
 * ops from the read models, and the read API replays from Cassandra — the same bounds hold: a catch-up over its
 * byte limit becomes the whole text, every frame is within the frame limit (in parts), and the read API limits
 * each principal's request rate.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OpLog } from '@collab/core';
import { createDocumentReader } from '@collab/read-side';
import pino from 'pino';
import { TokenVerifier } from '../src/auth/tokens.js';
import { projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';
import { READ_API_PAGE_SIZE, readApiRoutes } from '../src/http/read-api.js';
import { ofType, RawClient, type Message } from './support/raw-client.js';
import { freshReadSide, projected, startProjection, type RunningProjection } from './support/read-side.js';
import type { TestReadSide } from './support/read-side.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, openLog, SECRET, startService, TEST_LIMITS, token } from './support/service.js';

const WINDOW = 10;
const FRAME = 4096;
const CATCHUP = 20 * 1024;

describe('command-service: what a request costs, distributed (real stack)', function () {
  this.timeout(300_000);
  let t: TestTopic;
  let rs: TestReadSide;
  let log: OpLog;
  let svc: RunningService;
  let projection: RunningProjection | undefined;
  const clients: RawClient[] = [];
  const docId = `doc-${randomUUID().slice(0, 8)}`;
  let text = '';

  async function authed(userId: string): Promise<RawClient> {
    const c = await RawClient.connect(svc.url);
    clients.push(c);
    c.send({ t: 'auth', token: await token(userId), protocol: 1 });
    await c.next(ofType('welcome'));
    return c;
  }

  /** Every message answering an open, up to the one that completes it, with its size as JSON. */
  async function answerToOpen(c: RawClient): Promise<Array<{ m: Message; bytes: number }>> {
    const frames: Array<{ m: Message; bytes: number }> = [];
    for (;;) {
      const m = await c.next((x) => x.docId === docId, 60_000);
      frames.push({ m, bytes: Buffer.byteLength(JSON.stringify(m)) });
      const last = m.t === 'snapshot' || m.t === 'catchup' || (typeof m.parts === 'number' && m.part === m.parts - 1);
      if (last) return frames;
    }
  }

  before(async () => {
    t = await freshTopic(2);
    rs = await freshReadSide();
    log = await openLog(t);
    const group = `projection-${randomUUID().slice(0, 8)}`;
    projection = await startProjection(t, rs.readModels, group);
    const logger = pino({ level: 'silent' });
    const reader = createDocumentReader({
      readModels: rs.readModels,
      snapshots: rs.snapshots,
      pageSize: READ_API_PAGE_SIZE,
    });
    svc = await startService(t, {
      window: WINDOW,
      catchupLimit: 1000,
      maxCatchupBytes: CATCHUP,
      limits: { ...TEST_LIMITS, maxFrameBytes: FRAME, maxOpInsertLength: 2000 },
      documents: createReadSideSource({
        log,
        readModels: rs.readModels,
        snapshots: rs.snapshots,
        committedOffset: projectionOffsets(rs.admin, group, t.topic, 0),
        window: WINDOW,
        logger,
      }),
      httpRoutes: readApiRoutes(reader, await TokenVerifier.create({ hs256Secret: SECRET }), logger, {
        readsPerSecond: 1,
        concurrentReads: 2,
        queuedReads: 4,
      }),
    });
    const writer = await authed('writer');
    writer.send({ t: 'open', docId });
    await writer.next(ofType('snapshot'));
    // 40 versions of 1,000 characters each: 40 KB of ops, 40 KB of text.
    for (let v = 0; v < 40; v++) {
      const insert = String.fromCharCode(97 + (v % 26)).repeat(1000);
      writer.send({
        t: 'submit',
        docId,
        clientId: 'w',
        seq: v + 1,
        baseVersion: v,
        op: v === 0 ? [insert] : [v * 1000, insert],
      });
      assert.equal((await writer.next(ofType('ack', { seq: v + 1 }))).version, v + 1);
      text += insert;
    }
    await projected(rs.readModels, { [docId]: 40 });
  });

  after(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
    await projection?.stop();
    await log?.close();
    await rs?.close();
  });

  it('a catch-up over its byte limit (older ops read from Cassandra) becomes resync + the text, in frames within the limit', async () => {
    const c = await authed('mallory');
    c.send({ t: 'open', docId, version: 0 });
    const resync = await c.next((m) => m.docId === docId);
    assert.equal(resync.t, 'resync');
    const frames = await answerToOpen(c);
    assert.ok(frames.length > 1 && frames.every((f) => f.m.t === 'snapshot-part' && f.bytes <= FRAME));
    assert.equal(frames.map((f) => f.m.text).join(''), text);
  });

  it('a catch-up within the limit, reaching behind the window, comes in parts of whole ops within the frame limit', async () => {
    const c = await authed('carol');
    c.send({ t: 'open', docId, version: 25 }); // 26..30 from the read models, 31..40 from memory: 16.5 KB
    const frames = await answerToOpen(c);
    assert.ok(frames.length > 1 && frames.every((f) => f.m.t === 'catchup-part' && f.bytes <= FRAME));
    const versions = frames.flatMap((f) => (f.m.ops as Array<{ version: number }>).map((o) => o.version));
    assert.deepEqual(
      versions,
      Array.from({ length: 15 }, (_, i) => 26 + i),
    );
  });

  it('the read API (replaying from Cassandra) limits each principal: 429 beyond its burst, others served', async () => {
    const get = async (userId: string) =>
      fetch(`http://127.0.0.1:${svc.service.port}/v1/docs/${docId}?version=20`, {
        headers: { authorization: `Bearer ${await token(userId)}` },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await get('alice');
      statuses.push(res.status);
      if (res.status === 200) assert.equal(((await res.json()) as { text: string }).text, text.slice(0, 20_000));
      else assert.ok(Number(res.headers.get('retry-after')) >= 1);
    }
    // Burst 2 (twice 1/s): the third and fourth request, well within a second, are refused.
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.ok(statuses.slice(2).includes(429), statuses.join(','));
    assert.equal((await get('bob')).status, 200);
  });
});
