/**
 * The wire is defined once (@collab/protocol) and both sides keep to it:
 * - every kind of message the SDK sends is one the server's schema accepts, unchanged (no field stripped);
 * - every kind of message the server's schema allows is one the SDK handles, with the effect it should have;
 * - and the simulated server these tests run against keeps to the schema too.
 * The real server's output is checked against the same schema by every integration test that reads raw frames
 * (command-service/test/support/raw-client.ts).
 */
import assert from 'node:assert/strict';
import type { ClientMessageType, ServerMessage } from '@collab/protocol';
import { CLIENT_MESSAGE_TYPES, PROTOCOL_VERSION, stateHash } from '@collab/protocol';
import { ClientMessage, ServerMessage as ServerMessageSchema } from '@collab/protocol/schemas';
import type { ClientDocument, RemoteUser } from '../src/index.js';
import { CollabClient } from '../src/index.js';
import type { Connection } from '../src/testing/index.js';
import { FakeNetwork, ManualScheduler, Rng, SimServer } from '../src/testing/index.js';
import { serverHash } from './support/server-hash.js';

const SEED = 20;
const DOC = 'round-trip';

function setup() {
  const rng = new Rng(SEED);
  const scheduler = new ManualScheduler();
  const server = new SimServer(rng, () => scheduler.now(), { heartbeatMs: 1000, hashEvery: 2, stateHash: serverHash });
  const net = new FakeNetwork(scheduler, rng, server, { minDelayMs: 5, maxDelayMs: 5 });
  const client = new CollabClient({
    url: 'ws://sim',
    token: 'good',
    WebSocket: net.WebSocket,
    clientId: 'c1',
    scheduler,
    random: () => 0.5,
    reconnect: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 1 },
    presence: { name: 'Round Trip', color: '#123456' },
  });
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 5) {
      scheduler.advance(5);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const connection = (): Connection => {
    const [live] = net.connections;
    assert.ok(live !== undefined, 'a live connection');
    return live;
  };
  return { server, net, client, run, connection };
}

describe('the protocol round trip (seed 20)', () => {
  it('the server schema accepts every kind of message the SDK sends, unchanged', async () => {
    const { net, client, run, connection } = setup();
    const doc = await new Promise<ClientDocument>((resolve, reject) => {
      client.openDocument(DOC).then(resolve, reject);
      void run(100);
    });
    doc.insert(0, 'hello');
    doc.setCursor(2, 4);
    await run(2500); // acks, the presence update, and a keep-alive ping or two
    const commented = doc.comment(0, 2, 'a comment on "he"');
    await run(100);
    const threadId = await commented;
    assert.deepEqual(doc.comments.confirmed.threads.get(threadId)?.anchor, { start: 0, end: 2 });
    connection().break();
    await run(1000); // reconnect: auth again, open from the version held
    doc.reload(); // open with resync: 'reload'
    await run(100);
    doc.close();
    await run(100);
    client.close();

    const seen = new Set<ClientMessageType>();
    for (const frame of net.framesToServer) {
      const json: unknown = JSON.parse(frame);
      const parsed = ClientMessage.safeParse(json);
      assert.ok(parsed.success, `${frame}: ${parsed.success ? '' : parsed.error.message}`);
      assert.deepEqual(parsed.data, json, `${frame} comes through the schema unchanged`);
      seen.add(parsed.data.t);
    }
    assert.deepEqual([...seen].sort(), [...CLIENT_MESSAGE_TYPES].sort());
    const opens = net.framesToServer.map((f) => JSON.parse(f) as ClientMessage).filter((m) => m.t === 'open');
    assert.ok(
      opens.some((m) => m.version !== undefined),
      'a catch-up open',
    );
    assert.ok(
      opens.some((m) => m.resync === 'reload'),
      'a resync open',
    );
  });

  it('the simulated server sends only what the schema allows', async () => {
    const { net, client, run } = setup();
    const doc = await new Promise<ClientDocument>((resolve, reject) => {
      client.openDocument(DOC).then(resolve, reject);
      void run(100);
    });
    for (let i = 0; i < 5; i++) {
      doc.insert(doc.length, `${i}`);
      await run(50);
    }
    client.close();
    assert.ok(net.framesToClient.length > 5);
    for (const frame of net.framesToClient) {
      const parsed = ServerMessageSchema.safeParse(JSON.parse(frame));
      assert.ok(parsed.success, `${frame}: ${parsed.success ? '' : parsed.error.message}`);
    }
  });

  it('the SDK handles every kind of message the server schema allows', async () => {
    const { server, net, client, run, connection } = setup();
    const doc = await new Promise<ClientDocument>((resolve, reject) => {
      client.openDocument(DOC).then(resolve, reject);
      void run(100);
    });
    assert.equal(doc.version, 0);
    // From here the test speaks for the server: the simulated one stops answering.
    server.hung = true;
    const socket = connection().socket;
    const deliver = (message: ServerMessage): void => {
      const parsed = ServerMessageSchema.safeParse(message);
      assert.ok(parsed.success, `the sample ${JSON.stringify(message)} is one the schema allows`);
      socket.onmessage?.({ data: JSON.stringify(message) });
    };
    const clientErrors: string[] = [];
    const welcomes: string[] = [];
    client.events.on('error', (e) => clientErrors.push(e.code));
    client.events.on('welcome', (e) => welcomes.push(e.sessionId));
    const docEvents: string[] = [];
    const others: RemoteUser[][] = [];
    doc.on('error', (e) => docEvents.push(`error ${e.code}`));
    doc.on('resync', () => docEvents.push('resync'));
    doc.on('hash', (e) => docEvents.push(`hash ${e.ok}`));
    doc.on('ack', (e) => docEvents.push(`ack ${e.seq}`));
    doc.on('presence', (e) => others.push(e.users));

    const op = (version: number, text: string, at = 0) => ({
      version,
      op: at === 0 ? [text] : [at, text],
      clientId: 'other',
      seq: version,
      userId: 'someone',
      timestamp: 1,
    });
    const thread = {
      threadId: 't1',
      anchor: { start: 0, end: 3 },
      createdBy: 'someone',
      createdAt: 1,
      resolved: false,
      messages: [{ messageId: 'm1', authorId: 'someone', text: 'look', at: 1 }],
    };
    const user = { sessionId: 's-other', userId: 'someone', name: 'Someone', color: '#abcdef', version: 0 };
    const limits = {
      maxFrameBytes: 65_536,
      maxOpInsertLength: 1000,
      maxDocuments: 8,
      maxUnacked: 16,
      opsPerSecond: 50,
    };

    // One step per kind of server message (two for the two forms of `presence`), each with what it must do.
    type Messages = ServerMessage | ServerMessage[];
    const steps: Array<{ before?: () => void; message: Messages | (() => Messages); then: () => void }> = [
      {
        message: { t: 'op', docId: DOC, ...op(1, 'A') },
        then: () => assert.equal(doc.text, 'A'),
      },
      {
        message: { t: 'hash', docId: DOC, version: 1, hash: stateHash('A') },
        then: () => assert.deepEqual(docEvents, ['hash true']),
      },
      {
        message: { t: 'catchup', docId: DOC, version: 2, ops: [op(2, 'B', 1)] },
        then: () => assert.equal(doc.text, 'AB'),
      },
      {
        message: [
          { t: 'catchup-part', docId: DOC, version: 4, part: 0, parts: 2, ops: [op(3, 'C', 2)] },
          { t: 'catchup-part', docId: DOC, version: 4, part: 1, parts: 2, ops: [op(4, 'D', 3)] },
        ],
        then: () => assert.equal(doc.text, 'ABCD'),
      },
      {
        message: { t: 'snapshot', docId: DOC, version: 10, text: 'fresh' },
        then: () => assert.deepEqual([doc.text, doc.version], ['fresh', 10]),
      },
      {
        message: [
          { t: 'snapshot-part', docId: DOC, version: 12, part: 0, parts: 2, text: 'in ' },
          { t: 'snapshot-part', docId: DOC, version: 12, part: 1, parts: 2, text: 'parts' },
        ],
        then: () => assert.deepEqual([doc.text, doc.version], ['in parts', 12]),
      },
      {
        // Our own op in flight (the simulated server is silent), then its ack.
        before: () => doc.insert(0, '!'),
        message: () => ({ t: 'ack', docId: DOC, seq: lastSubmitSeq(), version: 13 }),
        then: () =>
          assert.deepEqual([doc.pendingCount, doc.version, docEvents.at(-1)], [0, 13, `ack ${lastSubmitSeq()}`]),
      },
      {
        message: { t: 'comments', docId: DOC, version: 13, part: 0, parts: 1, threads: [thread] },
        then: () => assert.deepEqual(doc.comments.threads, [thread]),
      },
      {
        message: {
          t: 'comment',
          docId: DOC,
          version: 13,
          userId: 'someone',
          timestamp: 2,
          body: { kind: 'replied', threadId: 't1', messageId: 'm2', text: 'agreed' },
        },
        then: () =>
          assert.deepEqual(
            doc.comments.threads[0]?.messages.map((m) => m.text),
            ['look', 'agreed'],
          ),
      },
      {
        before: () => void doc.comments.resolve('t1'),
        message: () => ({ t: 'comment-ack', docId: DOC, ref: lastCommentRef(), duplicate: false }),
        then: () => assert.equal(doc.comments.pendingCount, 0),
      },
      {
        message: { t: 'presence', docId: DOC, users: [user] },
        then: () =>
          assert.deepEqual(
            others.at(-1)?.map((u) => u.sessionId),
            ['s-other'],
          ),
      },
      {
        message: { t: 'presence', docId: DOC, update: { ...user, sessionId: 's-third', version: 13 } },
        then: () =>
          assert.deepEqual(
            others
              .at(-1)
              ?.map((u) => u.sessionId)
              .sort(),
            ['s-other', 's-third'],
          ),
      },
      {
        message: { t: 'presence-leave', docId: DOC, sessionId: 's-other' },
        then: () =>
          assert.deepEqual(
            others.at(-1)?.map((u) => u.sessionId),
            ['s-third'],
          ),
      },
      {
        message: { t: 'pong', id: 7 },
        then: () => assert.deepEqual(clientErrors, []),
      },
      {
        message: { t: 'error', code: 'ERR_FORBIDDEN', message: 'no', retriable: false, docId: DOC },
        then: () => assert.equal(docEvents.at(-1), 'error ERR_FORBIDDEN'),
      },
      {
        message: { t: 'error', code: 'ERR_RATE_LIMITED', message: 'slow down', retriable: true, retryAfterMs: 5 },
        then: () => assert.deepEqual(clientErrors, ['ERR_RATE_LIMITED']),
      },
      {
        message: { t: 'resync', docId: DOC, reason: 'too far behind' },
        then: () => assert.equal(docEvents.at(-1), 'resync'),
      },
      {
        message: { t: 'closed', docId: DOC, reason: 'ERR_TOKEN_EXPIRED', message: 'expired' },
        then: () => assert.equal(docEvents.at(-1), 'error ERR_TOKEN_EXPIRED'),
      },
      {
        // A welcome (after a fresh auth) re-opens the document closed above: for the whole text, as the resync
        // above asked.
        message: {
          t: 'welcome',
          protocol: PROTOCOL_VERSION,
          userId: 'user-good',
          sessionId: 's2',
          limits,
          heartbeatMs: 1000,
        },
        then: () => {
          assert.deepEqual(welcomes, ['s2']);
          const last = JSON.parse(net.framesToServer.at(-1)!) as ClientMessage;
          assert.deepEqual(last, { t: 'open', docId: DOC });
        },
      },
    ];
    function lastCommentRef(): string {
      const sent = net.framesToServer.map((f) => JSON.parse(f) as ClientMessage).filter((m) => m.t === 'comment');
      return (sent.at(-1) as { ref: string }).ref;
    }
    function lastSubmitSeq(): number {
      const submits = net.framesToServer.map((f) => JSON.parse(f) as ClientMessage).filter((m) => m.t === 'submit');
      return (submits.at(-1) as { seq: number }).seq;
    }

    const kinds = new Set<string>();
    for (const step of steps) {
      step.before?.();
      const message = typeof step.message === 'function' ? step.message() : step.message;
      const messages = Array.isArray(message) ? message : [message];
      for (const m of messages) deliver(m);
      step.then();
      for (const m of messages) kinds.add(m.t);
    }
    const schemaKinds = new Set(ServerMessageSchema.options.map((o) => o.shape.t.value));
    assert.deepEqual([...kinds].sort(), [...schemaKinds].sort(), 'a step for every kind of server message');
    client.close();
  });
});
