/**
 * GET /v1/docs/:docId/comments?version=N on the embedded server (docs/protocol.md, "Comments"): the threads and
 * anchors as they were at version N, what a client had then — over HTTP, with the read permission.
 */
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@collab/cli/testing';
import { WsProbe } from './support/ws-probe.js';

const DOC = 'time-travel';

describe('read API: the comment threads at a version (embedded)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let alice: WsProbe;
  before(async () => {
    server = await startTestServer();
    alice = await WsProbe.connect(
      server.wsUrl,
      await server.token('alice', { docs: { '*': ['read', 'write', 'comment'] } }),
    );
    alice.send({ t: 'open', docId: DOC });
    await alice.next((m) => m.t === 'comments');
    const submit = (seq: number, op: unknown[]) =>
      alice.send({ t: 'submit', docId: DOC, clientId: 'a', seq, baseVersion: seq - 1, op });
    const comment = (ref: string, command: Record<string, unknown>) =>
      alice.send({ t: 'comment', docId: DOC, ref, command });
    submit(1, ['hello world']);
    await alice.next((m) => m.t === 'ack');
    comment('c1', {
      kind: 'create',
      threadId: 't1',
      messageId: 'm1',
      anchor: { start: 6, end: 11 },
      version: 1,
      text: '?',
    });
    await alice.next((m) => m.t === 'comment-ack');
    submit(2, ['oh, ']);
    await alice.next((m) => m.t === 'ack');
    comment('c2', { kind: 'resolve', threadId: 't1' });
    await alice.next((m) => m.t === 'comment-ack');
  });
  after(async () => {
    alice?.close();
    await server?.close();
  });

  const get = async (query: string, user = 'reader', docs: Record<string, string[]> = { '*': ['read'] }) => {
    const token = await server.token(user, { docs: docs as never });
    return fetch(`${server.url}/v1/docs/${DOC}/comments${query}`, { headers: { authorization: `Bearer ${token}` } });
  };

  it('answers the threads at each version, anchors where they were then', async () => {
    const at = async (v: number) => (await (await get(`?version=${v}`)).json()) as Record<string, unknown>;
    assert.deepEqual(await at(0), { docId: DOC, version: 0, threads: [] });
    const v1 = (await at(1)).threads as Array<Record<string, unknown>>;
    assert.deepEqual([v1[0]?.anchor, v1[0]?.resolved], [{ start: 6, end: 11 }, false]);
    const latest = (await (await get('')).json()) as { version: number; threads: Array<Record<string, unknown>> };
    assert.equal(latest.version, 2);
    assert.deepEqual([latest.threads[0]?.anchor, latest.threads[0]?.resolved], [{ start: 10, end: 15 }, true]);
  });

  it('a version not reached is 404; without read permission 403', async () => {
    assert.equal((await get('?version=3')).status, 404);
    assert.equal((await get('?version=1', 'mallory', { other: ['read'] })).status, 403);
  });
});
