/**
 * Bad comment input on the embedded server (in this process, raw WebSocket frames): each refusal comes with its
 * code and the command's `ref`, to the sender only, and changes nothing — the log holds no new record, the other
 * subscriber hears nothing, and the threads a new reader gets are the same. Also with the limits lowered by
 * configuration (COLLAB_COMMENT_MAX_*).
 */
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@collab/cli/testing';
import { readCommentTruth } from './support/comment-log.js';
import { WsProbe, type Frame } from './support/ws-probe.js';

const DOC = 'refusals';
const ALL: ('read' | 'write' | 'comment')[] = ['read', 'write', 'comment'];

describe('comment commands: bad input gets its code and changes nothing', function () {
  this.timeout(60_000);
  let server: TestServer;
  let alice: WsProbe;
  let bob: WsProbe;
  before(async () => {
    server = await startTestServer();
    alice = await WsProbe.connect(server.wsUrl, await server.token('alice', { docs: { '*': ALL } }));
    bob = await WsProbe.connect(server.wsUrl, await server.token('bob', { docs: { '*': ALL } }));
    for (const probe of [alice, bob]) {
      probe.send({ t: 'open', docId: DOC });
      await probe.next((m) => m.t === 'comments');
    }
    alice.send({ t: 'submit', docId: DOC, clientId: 'a', seq: 1, baseVersion: 0, op: ['hello world'] });
    await alice.next((m) => m.t === 'ack');
    const create = {
      kind: 'create',
      threadId: 't1',
      messageId: 'm1',
      anchor: { start: 6, end: 11 },
      version: 1,
      text: 'hm',
    };
    alice.send({ t: 'comment', docId: DOC, ref: 'ok', command: create });
    await alice.next((m) => m.t === 'comment-ack');
    await bob.next((m) => m.t === 'comment');
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await server?.close();
  });

  const refusal = async (probe: WsProbe, message: unknown): Promise<Frame> => {
    probe.send(message);
    return probe.next((m) => m.t === 'error' || m.t === 'comment-ack' || m.t === 'comment');
  };

  it('refuses each with its code and ref; the log, the other subscriber and the threads are unchanged', async () => {
    const before = readCommentTruth(server.dataDir, DOC);
    const bobHeard = bob.received.length;
    const create = (over: Record<string, unknown>) => ({
      t: 'comment',
      docId: DOC,
      ref: 'r',
      command: {
        kind: 'create',
        threadId: 't9',
        messageId: 'm9',
        anchor: { start: 0, end: 5 },
        version: 1,
        text: 'x',
        ...over,
      },
    });
    const cases: [string, string, unknown][] = [
      ['ERR_COMMENT_INVALID', 'r', create({ text: ' ' })],
      ['ERR_COMMENT_TOO_LONG', 'r', create({ text: 'x'.repeat(10_001) })],
      ['ERR_ANCHOR_INVALID', 'r', create({ anchor: { start: 3, end: 40 } })],
      ['ERR_BASE_VERSION_INVALID', 'r', create({ version: 9 })],
      ['ERR_COMMENT_ID_TAKEN', 'r', create({ threadId: 't1' })],
      [
        'ERR_COMMENT_NOT_FOUND',
        'r',
        { t: 'comment', docId: DOC, ref: 'r', command: { kind: 'resolve', threadId: 'nope' } },
      ],
      ['ERR_DOC_NOT_OPEN', 'r', { ...create({}), docId: 'never-opened' }],
      ['ERR_INVALID_MESSAGE', 'r', create({ anchor: { start: -1, end: 2 } })],
      ['ERR_INVALID_MESSAGE', 'r', { t: 'comment', docId: DOC, ref: 'r', command: { kind: 'shout', threadId: 't1' } }],
    ];
    for (const [code, ref, message] of cases) {
      const answer = await refusal(alice, message);
      assert.equal(answer.t, 'error', JSON.stringify(answer));
      assert.equal(answer.code, code, JSON.stringify(answer));
      assert.equal(answer.ref, ref, JSON.stringify(answer));
    }
    // Not the author: bob may not edit alice's message nor delete her thread.
    for (const command of [
      { kind: 'edit', threadId: 't1', messageId: 'm1', text: 'mine now' },
      { kind: 'delete', threadId: 't1' },
    ]) {
      const answer = await refusal(bob, { t: 'comment', docId: DOC, ref: 'b', command });
      assert.deepEqual([answer.code, answer.ref], ['ERR_COMMENT_NOT_AUTHOR', 'b']);
    }
    const after = readCommentTruth(server.dataDir, DOC);
    assert.deepEqual(after.records, before.records, 'nothing appended');
    assert.deepEqual(
      bob.received.slice(bobHeard).map((r) => r.message.t),
      ['error', 'error'],
      'bob heard only his own refusals',
    );
  });

  it('a token without `comment` may read the threads but not write them (ERR_FORBIDDEN)', async () => {
    const reader = await WsProbe.connect(
      server.wsUrl,
      await server.token('rita', { docs: { '*': ['read', 'write'] } }),
    );
    try {
      reader.send({ t: 'open', docId: DOC });
      const threads = await reader.next((m) => m.t === 'comments');
      assert.deepEqual(
        (threads.threads as { threadId: string }[]).map((t) => t.threadId),
        ['t1'],
      );
      const records = readCommentTruth(server.dataDir, DOC).records;
      const answer = await refusal(reader, {
        t: 'comment',
        docId: DOC,
        ref: 'x',
        command: { kind: 'resolve', threadId: 't1' },
      });
      assert.deepEqual([answer.t, answer.code, answer.ref], ['error', 'ERR_FORBIDDEN', 'x']);
      assert.deepEqual(readCommentTruth(server.dataDir, DOC).records, records);
    } finally {
      reader.close();
    }
  });

  it('a retry with the same ids is acknowledged as a duplicate and appends nothing', async () => {
    const records = readCommentTruth(server.dataDir, DOC).records;
    const create = {
      kind: 'create',
      threadId: 't1',
      messageId: 'm1',
      anchor: { start: 6, end: 11 },
      version: 1,
      text: 'hm',
    };
    const answer = await refusal(alice, { t: 'comment', docId: DOC, ref: 'again', command: create });
    assert.deepEqual(answer, { t: 'comment-ack', docId: DOC, ref: 'again', duplicate: true });
    assert.deepEqual(readCommentTruth(server.dataDir, DOC).records, records);
  });
});

describe('comment limits lowered by configuration: refused with their codes, nothing changes', function () {
  this.timeout(60_000);
  let server: TestServer;
  let alice: WsProbe;
  before(async () => {
    server = await startTestServer({
      env: {
        COLLAB_COMMENT_MAX_MESSAGE_CHARS: '5',
        COLLAB_COMMENT_MAX_THREADS: '1',
        COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD: '2',
      },
    });
    alice = await WsProbe.connect(server.wsUrl, await server.token('alice', { docs: { '*': ALL } }));
  });
  after(async () => {
    alice?.close();
    await server?.close();
  });

  it('announces the limits, refuses past each of them, and the log and the threads stay as they were', async () => {
    const welcome = alice.received.find((r) => r.message.t === 'welcome')!.message as unknown as {
      limits: Record<string, unknown>;
    };
    assert.deepEqual(
      [welcome.limits.maxCommentLength, welcome.limits.maxThreadsPerDocument, welcome.limits.maxMessagesPerThread],
      [5, 1, 2],
    );
    alice.send({ t: 'open', docId: DOC });
    await alice.next((m) => m.t === 'comments');
    alice.send({ t: 'submit', docId: DOC, clientId: 'a', seq: 1, baseVersion: 0, op: ['hello world'] });
    await alice.next((m) => m.t === 'ack');
    const comment = (ref: string, command: Record<string, unknown>) =>
      alice.send({ t: 'comment', docId: DOC, ref, command });
    const answer = () => alice.next((m) => m.t === 'error' || m.t === 'comment-ack');
    const create = (threadId: string, text: string) => ({
      kind: 'create',
      threadId,
      messageId: `${threadId}-m`,
      anchor: { start: 0, end: 5 },
      version: 1,
      text,
    });
    comment('ok', create('t1', 'five!'));
    assert.equal((await answer()).t, 'comment-ack');
    comment('ok2', { kind: 'reply', threadId: 't1', messageId: 'm2', text: 'yes' });
    assert.equal((await answer()).t, 'comment-ack');

    const before = readCommentTruth(server.dataDir, DOC);
    const threadsBefore = await fetchThreads();
    const cases: [string, Record<string, unknown>][] = [
      ['ERR_COMMENT_TOO_LONG', { kind: 'reply', threadId: 't1', messageId: 'm3', text: 'six!!!' }],
      ['ERR_COMMENT_LIMIT', create('t2', 'more')],
      ['ERR_COMMENT_LIMIT', { kind: 'reply', threadId: 't1', messageId: 'm3', text: 'more' }],
      ['ERR_COMMENT_TOO_LONG', { kind: 'edit', threadId: 't1', messageId: 't1-m', text: 'longer' }],
    ];
    for (const [code, command] of cases) {
      comment('r', command);
      const refused = await answer();
      assert.deepEqual([refused.t, refused.code, refused.ref], ['error', code, 'r'], JSON.stringify(command));
    }
    assert.deepEqual(readCommentTruth(server.dataDir, DOC).records, before.records, 'nothing appended');
    assert.deepEqual(await fetchThreads(), threadsBefore);
    assert.deepEqual(
      (threadsBefore.threads as { messages: unknown[] }[]).map((t) => t.messages.length),
      [2],
    );
  });

  async function fetchThreads(): Promise<{ threads: unknown[] }> {
    const response = await fetch(`${server.url}/v1/docs/${DOC}/comments`, {
      headers: { authorization: `Bearer ${await server.token('alice', { docs: { '*': ALL } })}` },
    });
    assert.equal(response.status, 200);
    return (await response.json()) as { threads: unknown[] };
  }
});
