/**
 * The catch-up chain on the real stack (Kafka, Cassandra, the real projection-service): a client reopening a
 * document from the version it holds gets the missing ops from the in-memory window, from the read models when it
 * is further behind than the window, from Kafka (after the projection's committed offset) when the read models
 * lag, and `resync` + the whole text only beyond the catch-up limit. Ops committed while the older ops are read
 * reach the client after its catch-up, in order. Every client ends with exactly the text of the log.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OpLog } from '@collab/core';
import { type } from '@collab/ot-text';
import type { TextOp } from '@collab/ot-text';
import pino from 'pino';
import { loadFromLog } from '../src/documents/document-loader.js';
import type { SourceEvent } from '../src/documents/document-source.js';
import { projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';
import {
  committedOffset,
  freshReadSide,
  projected,
  startProjection,
  type RunningProjection,
} from './support/read-side.js';
import type { TestReadSide } from './support/read-side.js';
import { ofType, RawClient, type Message } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, openLog, startService, token } from './support/service.js';

const WINDOW = 20;
const LIMIT = 150;

interface WireOp {
  version: number;
  op: TextOp;
}

describe('command-service catch-up: memory, then read models, then Kafka; resync beyond the limit (real stack)', function () {
  this.timeout(300_000);
  let t: TestTopic;
  let rs: TestReadSide;
  let log: OpLog;
  let svc: RunningService;
  let projection: RunningProjection | undefined;
  let writer: RawClient;
  const group = `projection-${randomUUID().slice(0, 8)}`;
  const docId = `doc-${randomUUID().slice(0, 8)}`;
  const events: SourceEvent[] = [];
  /** The text at every version, as the writer made it. */
  const texts = [''];
  const clients: RawClient[] = [];
  let seq = 0;

  async function authed(): Promise<RawClient> {
    const c = await RawClient.connect(svc.url);
    clients.push(c);
    c.send({ t: 'auth', token: await token(`u-${clients.length}`), protocol: 1 });
    await c.next(ofType('welcome'));
    return c;
  }

  /** The writer commits `n` ops, one at a time. */
  async function type_(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const version = texts.length - 1;
      const op: TextOp = [`${version + 1}.`];
      writer.send({ t: 'submit', docId, clientId: 'writer', seq: ++seq, baseVersion: version, op });
      const ack = await writer.next(ofType('ack', { seq }));
      assert.equal(ack.version, version + 1);
      texts.push(type.apply(type.create(texts[version]!), op).toString());
    }
  }

  /** Open at `version` and apply what comes back to the text of that version. */
  async function reopenAt(version: number): Promise<{ client: RawClient; answer: Message; text: string; at: number }> {
    const client = await authed();
    client.send({ t: 'open', docId, version });
    const answer = await client.next((m) => m.t === 'catchup' || m.t === 'resync', 60_000);
    if (answer.t === 'resync') {
      const snapshot = await client.next(ofType('snapshot'));
      return { client, answer, text: String(snapshot.text), at: Number(snapshot.version) };
    }
    let doc = type.create(texts[version]!);
    const ops = answer.ops as WireOp[];
    ops.forEach((w, i) => assert.equal(w.version, version + 1 + i, 'catch-up ops are gapless and in order'));
    for (const w of ops) doc = type.apply(doc, w.op);
    return { client, answer, text: doc.toString(), at: Number(answer.version) };
  }

  const catchups = () => events.filter((e): e is Extract<SourceEvent, { kind: 'catchup' }> => e.kind === 'catchup');

  before(async () => {
    t = await freshTopic(2);
    rs = await freshReadSide();
    log = await openLog(t);
    projection = await startProjection(t, rs.readModels, group);
    svc = await startService(t, {
      window: WINDOW,
      catchupLimit: LIMIT,
      documents: createReadSideSource({
        log,
        readModels: rs.readModels,
        snapshots: rs.snapshots,
        committedOffset: projectionOffsets(rs.admin, group, t.topic, 0),
        window: WINDOW,
        logger: pino({ level: 'silent' }),
        onEvent: (e) => events.push(e),
      }),
    });
    writer = await authed();
    writer.send({ t: 'open', docId });
    await writer.next(ofType('snapshot'));
    await type_(100);
    await projected(rs.readModels, { [docId]: 100 });
  });

  after(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
    await projection?.stop();
    await log?.close();
    await rs?.close();
  });

  it('within the window: from memory, nothing read from storage', async () => {
    const before = catchups().length;
    const { text, at, answer } = await reopenAt(90);
    assert.equal(answer.t, 'catchup');
    assert.deepEqual([at, text], [100, texts[100]]);
    assert.equal(catchups().length, before, 'no storage read');
  });

  it('behind the window, within the limit: the older ops from the read models', async () => {
    const { text, at, answer } = await reopenAt(30);
    assert.equal(answer.t, 'catchup');
    assert.deepEqual([at, text], [100, texts[100]]);
    const read = catchups().at(-1)!;
    assert.deepEqual([read.from, read.to, read.readModelOps, read.logFrom], [31, 80, 50, undefined]);
  });

  it('the read models lagging (projection stopped): the rest from Kafka after the committed offset', async () => {
    await projection!.stop();
    projection = undefined;
    const committed = await committedOffset(rs.admin, group, t.topic, log.partitionFor(docId));
    await type_(100); // versions 101..200, never projected
    const { text, at, answer } = await reopenAt(90);
    assert.equal(answer.t, 'catchup');
    assert.deepEqual([at, text], [200, texts[200]]);
    const read = catchups().at(-1)!;
    assert.deepEqual(
      [read.from, read.to, read.readModelOps, read.logOps, read.logFrom],
      [91, 180, 10, 80, committed],
      'versions 91..100 from Cassandra, 101..180 from Kafka, 181..200 from memory',
    );
  });

  it('beyond the catch-up limit: resync and the whole text', async () => {
    const { text, at, answer } = await reopenAt(40); // 160 behind
    assert.equal(answer.t, 'resync');
    assert.deepEqual([at, text], [200, texts[200]]);
  });

  it('ops committed while the older ops are read reach the client after its catch-up, in order; it ends with the log’s text', async () => {
    const client = await authed();
    const got: Message[] = [];
    const stopped = { now: false };
    // The writer keeps typing while the client's older ops (120..180) are read from Kafka.
    const typing = (async () => {
      while (!stopped.now) await type_(1);
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.send({ t: 'open', docId, version: 110 });
    const answer = await client.next((m) => m.t === 'catchup' || m.t === 'resync', 60_000);
    assert.equal(answer.t, 'catchup', JSON.stringify(answer).slice(0, 300));
    await new Promise((resolve) => setTimeout(resolve, 500));
    stopped.now = true;
    await typing;
    const last = texts.length - 1;
    let doc = type.create(texts[110]!);
    let version = 110;
    for (const w of answer.ops as WireOp[]) {
      assert.equal(w.version, version + 1);
      doc = type.apply(doc, w.op);
      version = w.version;
    }
    while (version < last) {
      const m = await client.next((x) => x.t === 'op' || x.t === 'catchup' || x.t === 'resync');
      got.push(m);
      assert.equal(m.t, 'op', `only ops after the catch-up, got ${m.t}`);
      assert.equal(m.version, version + 1, 'live ops continue the catch-up without a gap or a repeat');
      doc = type.apply(doc, m.op as TextOp);
      version = Number(m.version);
    }
    const truth = await loadFromLog(log, docId, WINDOW);
    assert.deepEqual([version, doc.toString()], [truth.version, truth.doc.toString()], 'the client has the log’s text');
    console.log(
      `      catch-up under load: ${(answer.ops as WireOp[]).length} ops in the catch-up to ${String(answer.version)}, ` +
        `then ${got.length} live ops to ${version}`,
    );
  });
});
