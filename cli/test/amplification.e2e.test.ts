/**
 * What one `open` may cost the server, attacked over a real socket against `collab serve` (the embedded mode,
 * started the way users start it): a catch-up is bounded in bytes (beyond: the whole text instead), every frame
 * the server sends is within the frame limit (larger snapshots and catch-ups come in parts, which the SDK joins),
 * a delete cannot carry more text than an insert, and opens have a rate. Small limits keep the documents small.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signDevToken } from '@collab/command-service';
import { cleanEnv, sdkClient, startServer, tempDataDir, type ServerProcess } from './support/cli.js';
import { WsProbe, type Frame } from './support/ws-probe.js';

const SECRET = 'amplification-test-secret-0123456789abcdef';
const FRAME = 16 * 1024;
const CATCHUP = 64 * 1024;
const OP_TEXT = 4096;

describe('collab serve: what an open costs (real sockets)', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  let server: ServerProcess;
  const probes: WsProbe[] = [];
  const token = (userId: string) => signDevToken({ secret: SECRET, userId, docs: { '*': ['read', 'write'] } });
  const connect = async (userId = 'mallory'): Promise<WsProbe> => {
    const probe = await WsProbe.connect(server.wsUrl, await token(userId));
    probes.push(probe);
    return probe;
  };

  /** A writer that submits ops one at a time (each after the previous ack), from `version`. */
  async function writer(docId: string): Promise<{ submit(op: unknown[]): Promise<Frame>; version: number }> {
    const probe = await connect('writer');
    probe.send({ t: 'open', docId });
    const snapshot = await probe.next((m) => m.t === 'snapshot');
    const state = { version: snapshot.version as number, seq: 0 };
    return {
      get version() {
        return state.version;
      },
      async submit(op) {
        const seq = ++state.seq;
        probe.send({ t: 'submit', docId, clientId: 'w', seq, baseVersion: state.version, op });
        const answer = await probe.next((m) => (m.t === 'ack' || m.t === 'error') && m.seq === seq);
        if (answer.t === 'ack') state.version = answer.version as number;
        return answer;
      },
    };
  }

  /** Every frame answering an open, up to and including the one that completes it. */
  async function answerToOpen(probe: WsProbe, docId: string): Promise<Array<{ message: Frame; bytes: number }>> {
    const from = probe.skipReceived();
    const done = (m: Frame) =>
      m.docId === docId &&
      (m.t === 'snapshot' ||
        m.t === 'catchup' ||
        m.t === 'error' ||
        ((m.t === 'snapshot-part' || m.t === 'catchup-part') && m.part === (m.parts as number) - 1));
    await probe.next(done);
    // Presence lists and comment threads of earlier opens (each follows its open's answer) may arrive in between:
    // they are not part of this answer.
    const frames = probe.received.slice(from).filter((f) => f.message.t !== 'presence' && f.message.t !== 'comments');
    return frames.slice(0, frames.findIndex((f) => done(f.message)) + 1);
  }

  before(async () => {
    server = await startServer(
      data.dir,
      0,
      cleanEnv({
        COLLAB_JWT_SECRET: SECRET,
        COLLAB_MAX_FRAME_BYTES: String(FRAME),
        COLLAB_MAX_CATCHUP_BYTES: String(CATCHUP),
        COLLAB_MAX_OP_INSERT: String(OP_TEXT),
        COLLAB_OPENS_PER_SECOND: '1',
      }),
    );
  });
  after(async () => {
    for (const p of probes) p.close();
    await server?.stop('SIGTERM');
    data.remove();
  });

  it('an open from version 0 of a document with a heavy history gets resync + the small text, not the ops', async () => {
    const docId = `heavy-${randomUUID()}`;
    const w = await writer(docId);
    // Each pair of versions inserts and deletes 4,000 characters: 80 KB of ops for a document of 5 characters.
    for (let i = 0; i < 20; i++) {
      assert.equal((await w.submit(['z'.repeat(4000)])).t, 'ack');
      assert.equal((await w.submit([{ d: 4000 }])).t, 'ack');
    }
    assert.equal((await w.submit(['small'])).t, 'ack');

    const attacker = await connect();
    attacker.send({ t: 'open', docId, version: 0 }); // 70 bytes
    const frames = await answerToOpen(attacker, docId);
    assert.deepEqual(
      frames.map((f) => f.message.t),
      ['resync', 'snapshot'],
    );
    assert.equal(frames[1]!.message.text, 'small');
    const total = frames.reduce((n, f) => n + f.bytes, 0);
    assert.ok(total < 1024, `the answer took ${total} bytes`);

    // A client only a few versions behind still gets the ops (and keeps its pending edits).
    attacker.send({ t: 'open', docId, version: w.version - 2 });
    const near = await answerToOpen(attacker, docId);
    assert.equal(near[0]!.message.t, 'catchup');
  });

  it('a document larger than a frame arrives in parts within the frame limit; the SDK joins them', async () => {
    const docId = `large-${randomUUID()}`;
    const w = await writer(docId);
    let expected = '';
    for (let i = 0; i < 15; i++) {
      const chunk = String.fromCharCode(97 + i).repeat(4000) + '😀';
      const at = 4001 * i; // code points so far
      assert.equal((await w.submit(at === 0 ? [chunk] : [at, chunk])).t, 'ack');
      expected += chunk;
    }
    const probe = await connect();
    probe.send({ t: 'open', docId });
    const snapshot = await answerToOpen(probe, docId);
    assert.ok(snapshot.length > 1, 'the text came in parts');
    for (const f of snapshot) {
      assert.equal(f.message.t, 'snapshot-part');
      assert.ok(f.bytes <= FRAME, `a frame of ${f.bytes} bytes`);
    }
    assert.equal(snapshot.map((f) => f.message.text).join(''), expected);

    // A catch-up larger than a frame (but within the catch-up limit) comes in parts of whole ops too.
    probe.send({ t: 'open', docId, version: 5 });
    const catchup = await answerToOpen(probe, docId);
    assert.ok(catchup.length > 1);
    for (const f of catchup) assert.ok(f.message.t === 'catchup-part' && f.bytes <= FRAME);
    assert.deepEqual(
      catchup.flatMap((f) => (f.message.ops as Array<{ version: number }>).map((o) => o.version)),
      Array.from({ length: 10 }, (_, i) => 6 + i),
    );

    const client = sdkClient(server.wsUrl, await token('reader'));
    try {
      const doc = await client.openDocument(docId);
      assert.equal(doc.text, expected);
      assert.equal(doc.version, 15);
    } finally {
      client.close();
    }
  });

  it('a delete naming more text than an op may carry is refused with ERR_OP_TOO_LARGE and changes nothing', async () => {
    const docId = `delete-${randomUUID()}`;
    const w = await writer(docId);
    await w.submit(['a'.repeat(4000)]);
    await w.submit([4000, 'b'.repeat(4000)]);
    const refused = await w.submit([{ d: 'a'.repeat(4000) + 'b'.repeat(4000) }]);
    assert.equal(refused.t, 'error');
    assert.equal(refused.code, 'ERR_OP_TOO_LARGE');
    const probe = await connect();
    probe.send({ t: 'open', docId });
    const [snapshot] = await answerToOpen(probe, docId);
    assert.equal(snapshot!.message.version, 2);
    assert.equal((snapshot!.message.text as string).length, 8000);
    // The same delete by count carries no text: accepted.
    assert.equal((await w.submit([{ d: 8000 }])).t, 'ack');
  });

  it('opens have a rate per connection: beyond the burst, ERR_RATE_LIMITED with the document and a wait', async () => {
    const docId = `opens-${randomUUID()}`;
    const probe = await connect();
    const from = probe.skipReceived();
    for (let i = 0; i < 100; i++) probe.send({ t: 'open', docId });
    await probe.next((m) => m.t === 'pong' || m.t === 'error' || m.t === 'snapshot');
    probe.send({ t: 'ping', id: 'end' });
    await probe.next((m) => m.t === 'pong' && m.id === 'end');
    const answers = probe.received.slice(from).map((f) => f.message);
    const limited = answers.filter((m) => m.t === 'error' && m.code === 'ERR_RATE_LIMITED');
    const snapshots = answers.filter((m) => m.t === 'snapshot');
    assert.equal(limited.length + snapshots.length, 100);
    // The burst is max(maxDocuments = 64, 2 × rate); at 1 open per second, well over 30 of 100 are refused.
    assert.ok(limited.length >= 30, `${limited.length} refused`);
    for (const m of limited) {
      assert.equal(m.docId, docId);
      assert.equal(m.retriable, true);
      assert.ok((m.retryAfterMs as number) > 0);
    }
  });
});
