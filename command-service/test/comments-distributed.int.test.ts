/**
 * Comment threads in the distributed mode (docs/comments.md): two command-service processes on real Kafka with
 * the schema registry (comment events framed with the registry's comment-event id). Proves end to end:
 *  - a comment made through A on a document B owns is forwarded, decided by B, acked to its sender after the
 *    `comment` frame, reaches subscribers on both instances, is in the log once (a retry is a duplicate), and every
 *    later open on either instance gets it in `comments`, its anchor moved with the text;
 *  - bad comment input through a non-owner gets its error code and ref, and changes nothing (no event in the log,
 *    no frame to anyone);
 *  - SIGKILL of an instance while comments are being added through both: every comment acked is in the log once
 *    and in the threads the survivor opens with.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKafkaOpLog, createPartitionFor } from '@collab/adapter-kafka';
import { isCommentEvent, type CommentEvent } from '@collab/core';
import { requireSchemaRegistry, useStack } from '@collab/infra';
import type { MultiTopic } from './support/processes.js';
import { freshTopics, Instance, until } from './support/processes.js';
import { type Message, ofType, RawClient } from './support/raw-client.js';
import { freshReadSide, type TestReadSide } from './support/read-side.js';
import { token } from './support/service.js';

const PARTITIONS = 4;

async function authed(url: string, userId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId, { '*': ['read', 'write', 'comment'] }), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

/** Opens and returns the threads the open was answered with (one part: these tests stay small). */
async function open(c: RawClient, docId: string): Promise<Message> {
  c.send({ t: 'open', docId });
  await c.next((m) => (m.t === 'snapshot' || m.t === 'catchup') && m.docId === docId);
  return c.next(ofType('comments', { docId }));
}

const threadsOf = (comments: Message) => comments.threads as Array<Record<string, unknown>>;

describe('comment threads, distributed (real processes, real Kafka, schema registry)', function () {
  this.timeout(240_000);
  let t: MultiTopic;
  let registryUrl: string;
  let a: Instance;
  let b: Instance;
  let rs: TestReadSide;
  const started: Instance[] = [];
  const raw: RawClient[] = [];
  const track = (c: RawClient) => {
    raw.push(c);
    return c;
  };

  /** The document's comment events in the log, read through the registry codec. */
  async function commentEvents(docId: string): Promise<CommentEvent[]> {
    const log = await createKafkaOpLog({
      brokers: t.brokers,
      topic: t.topic,
      partitionCount: t.partitions,
      clientId: `test-read-${randomUUID().slice(0, 6)}`,
      schemaRegistry: { url: registryUrl },
    });
    try {
      const events: CommentEvent[] = [];
      for await (const batch of log.read(log.partitionFor(docId), 0n)) {
        for (const r of batch) if (isCommentEvent(r.value) && r.value.docId === docId) events.push(r.value);
      }
      return events;
    } finally {
      await log.close();
    }
  }

  async function ownerOf(docId: string): Promise<Instance> {
    const partition = createPartitionFor(t.topic, PARTITIONS)(docId);
    for (const i of [a, b]) if ((await i.status()).ownedPartitions.includes(partition)) return i;
    throw new Error(`nobody owns partition ${partition}`);
  }

  /** A fresh document owned by `owner`. */
  async function docOwnedBy(owner: Instance): Promise<string> {
    for (;;) {
      const docId = `doc-${randomUUID().slice(0, 8)}`;
      if ((await ownerOf(docId)) === owner) return docId;
    }
  }

  before(async () => {
    registryUrl = requireSchemaRegistry(await useStack()).url;
    // Ids are global, by content: another schema first, so that the ops schema never gets id 1 here and the other
    // registry tests (which tell the assigned id from the pre-registry id 1) pass whatever the order of the files.
    const registered = await fetch(`${registryUrl}/subjects/unrelated-${randomUUID()}-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'Unrelated', fields: [] }) }),
    });
    assert.ok(registered.ok, `registering a schema: HTTP ${registered.status}`);
    t = await freshTopics(PARTITIONS);
    // With the read side configured (Cassandra, S3): the read API is mounted. No projection runs here, so loads fall
    // back to the whole log (comments-read-side.int covers loads from the read side).
    rs = await freshReadSide();
    const env = {
      ...rs.env,
      COLLAB_PROJECTION_GROUP: `${t.topic}-projection`,
      COLLAB_SCHEMA_REGISTRY_URL: registryUrl,
      COLLAB_COMMENTS: 'true',
    };
    [a, b] = await Promise.all([Instance.start(t, 'a', env), Instance.start(t, 'b', env)]);
    started.push(a, b);
    await until('both instances to own partitions', async () => {
      const owned = await Promise.all([a, b].map(async (i) => (await i.status()).ownedPartitions));
      return owned.every((p) => p.length > 0) && owned.flat().length === PARTITIONS ? true : undefined;
    });
  });
  after(async () => {
    for (const c of raw) c.close();
    for (const i of started) i.kill('SIGKILL');
    await Promise.all(started.map((i) => i.exited));
    await rs?.close();
  });

  it('through A on a document B owns: acked after its frame, seen on both instances, in the log once, on every open', async () => {
    const docId = await docOwnedBy(b);
    const viaA = track(await authed(a.url, 'alice'));
    const onB = track(await authed(b.url, 'bob'));
    assert.deepEqual(threadsOf(await open(viaA, docId)), []);
    assert.deepEqual(threadsOf(await open(onB, docId)), []);
    onB.send({ t: 'submit', docId, clientId: 'bob-1', seq: 1, baseVersion: 0, op: ['hello world'] });
    await onB.next(ofType('ack'));
    await viaA.next(ofType('op', { docId }));

    const create = {
      kind: 'create',
      threadId: 'th-1',
      messageId: 'm-1',
      anchor: { start: 6, end: 11 },
      version: 1,
      text: 'which world?',
    };
    viaA.send({ t: 'comment', docId, ref: 'c1', command: create });
    // The sender sees the event first, then its ack (in log order, as every subscriber).
    const first = await viaA.next((m) => m.t === 'comment' || m.t === 'comment-ack', 20_000);
    assert.equal(first.t, 'comment', JSON.stringify(first));
    const body = {
      kind: 'created',
      threadId: 'th-1',
      messageId: 'm-1',
      anchor: { start: 6, end: 11 },
      text: 'which world?',
    };
    assert.deepEqual(
      { ...first, timestamp: 0 },
      { t: 'comment', docId, version: 1, userId: 'alice', timestamp: 0, body },
    );
    assert.deepEqual(await viaA.next(ofType('comment-ack')), { t: 'comment-ack', docId, ref: 'c1', duplicate: false });
    const seenOnB = await onB.next(ofType('comment'));
    assert.deepEqual(seenOnB, first);

    // The same command again (its answer was lost): a duplicate, nothing appended, no frame to anyone.
    viaA.send({ t: 'comment', docId, ref: 'c1-again', command: create });
    assert.deepEqual(await viaA.next(ofType('comment-ack'), 20_000), {
      t: 'comment-ack',
      docId,
      ref: 'c1-again',
      duplicate: true,
    });
    const events = await commentEvents(docId);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.deepEqual(events[0]!.body, body);

    // Text typed before the range moves it; every later open, on either instance, has the thread there.
    onB.send({ t: 'submit', docId, clientId: 'bob-1', seq: 2, baseVersion: 1, op: ['oh, '] });
    await onB.next(ofType('ack'));
    await viaA.next(ofType('op', { docId }));
    for (const instance of [a, b]) {
      const reader = track(await authed(instance.url, 'carol'));
      const comments = await open(reader, docId);
      assert.equal(comments.version, 2);
      const [thread] = threadsOf(comments);
      assert.deepEqual(thread?.anchor, { start: 10, end: 15 }, instance.name);
      assert.equal(thread?.createdBy, 'alice');
    }
    assert.deepEqual(
      [...viaA.pending(), ...onB.pending()].filter((m) => m.t === 'comment' || m.t === 'error'),
      [],
      'no second comment frame, no error',
    );
    // The read API of either instance: the threads as they were at each version (GET …/comments?version=N).
    const reader = await token('reader', { '*': ['read'] });
    for (const instance of [a, b]) {
      const base = instance.url.replace(/^ws/, 'http').replace(/\/v1\/ws$/, '');
      const at = async (v: number) => {
        const res = await fetch(`${base}/v1/docs/${docId}/comments?version=${v}`, {
          headers: { authorization: `Bearer ${reader}` },
        });
        assert.equal(res.status, 200, `${instance.name} version ${v}`);
        return (await res.json()) as { version: number; threads: Array<{ anchor: unknown }> };
      };
      assert.deepEqual((await at(0)).threads, []);
      assert.deepEqual((await at(1)).threads[0]?.anchor, { start: 6, end: 11 }, instance.name);
      assert.deepEqual((await at(2)).threads[0]?.anchor, { start: 10, end: 15 }, instance.name);
    }
  });

  it('bad comment input through a non-owner: its error code and ref, and nothing changes', async () => {
    const docId = await docOwnedBy(b);
    const viaA = track(await authed(a.url, 'alice'));
    const onB = track(await authed(b.url, 'bob'));
    await open(viaA, docId);
    await open(onB, docId);
    onB.send({ t: 'submit', docId, clientId: 'bob-2', seq: 1, baseVersion: 0, op: ['stable text'] });
    await onB.next(ofType('ack'));
    await viaA.next(ofType('op', { docId }));
    // Bob's thread, decided on his own instance (the owner).
    onB.send({
      t: 'comment',
      docId,
      ref: 'b1',
      command: {
        kind: 'create',
        threadId: 'bob-t',
        messageId: 'bob-m',
        anchor: { start: 0, end: 6 },
        version: 1,
        text: 'mine',
      },
    });
    await onB.next(ofType('comment-ack'));
    await onB.next(ofType('comment')); // his own event, sent to him before the ack
    await viaA.next(ofType('comment'));
    const before = await commentEvents(docId);
    assert.equal(before.length, 1);

    const create = (extra: Record<string, unknown>) => ({
      kind: 'create',
      threadId: `t-${randomUUID().slice(0, 6)}`,
      messageId: `m-${randomUUID().slice(0, 6)}`,
      anchor: { start: 0, end: 1 },
      version: 1,
      text: 'hm',
      ...extra,
    });
    const table: Array<[string, unknown, string]> = [
      [
        'a reply to a thread that does not exist',
        { kind: 'reply', threadId: 'nope', messageId: 'x', text: 'hi' },
        'ERR_COMMENT_NOT_FOUND',
      ],
      ['an anchor past the end of the text', create({ anchor: { start: 0, end: 99 } }), 'ERR_ANCHOR_INVALID'],
      ['a version the document has not reached', create({ version: 7 }), 'ERR_BASE_VERSION_INVALID'],
      ['blank text', create({ text: '   ' }), 'ERR_COMMENT_INVALID'],
      ['text over the limit', create({ text: 'x'.repeat(10_001) }), 'ERR_COMMENT_TOO_LONG'],
      [
        'an edit of another user’s message',
        { kind: 'edit', threadId: 'bob-t', messageId: 'bob-m', text: 'hers' },
        'ERR_COMMENT_NOT_AUTHOR',
      ],
      ['a delete of another user’s thread', { kind: 'delete', threadId: 'bob-t' }, 'ERR_COMMENT_NOT_AUTHOR'],
      ['a thread id another thread has', create({ threadId: 'bob-t' }), 'ERR_COMMENT_ID_TAKEN'],
      ['a command of no known kind', { kind: 'explode', threadId: 'bob-t' }, 'ERR_INVALID_MESSAGE'],
    ];
    for (const [i, [what, command, code]] of table.entries()) {
      const ref = `bad-${i}`;
      viaA.send({ t: 'comment', docId, ref, command });
      const err = await viaA.next(ofType('error', { ref }), 20_000);
      assert.equal(err.code, code, `${what}: ${JSON.stringify(err)}`);
      if (code !== 'ERR_INVALID_MESSAGE') assert.equal(err.docId, docId, what);
      assert.equal(err.retriable, false, what);
    }
    assert.deepEqual(await commentEvents(docId), before, 'no event appended');
    const leaked = [...viaA.pending(), ...onB.pending()].filter((m) => m.t === 'comment' || m.t === 'comment-ack');
    assert.deepEqual(leaked, [], 'no frame to anyone');
    const [thread] = threadsOf(await open(track(await authed(a.url, 'carol')), docId));
    assert.deepEqual(
      { anchor: thread?.anchor, messages: (thread?.messages as unknown[]).length, resolved: thread?.resolved },
      { anchor: { start: 0, end: 6 }, messages: 1, resolved: false },
    );
  });

  it('SIGKILL of an instance while comments are added through both: every acked comment is in the log once and on open', async () => {
    const docIds = await Promise.all([docOwnedBy(a), docOwnedBy(a), docOwnedBy(b), docOwnedBy(b)]);
    const acked = new Map<string, Set<string>>(docIds.map((d) => [d, new Set()]));
    const errors: Message[] = [];
    let stopping = false;

    /** Creates threads one after another, resending the same command after a retriable error or a reconnect. */
    async function commenter(user: string, urls: string[]): Promise<number> {
      let url = 0;
      let c = track(await authed(urls[url]!, user));
      for (const d of docIds) await open(c, d);
      let reconnects = 0;
      for (let i = 0; !stopping; i++) {
        const docId = docIds[i % docIds.length]!;
        const command = {
          kind: 'create',
          threadId: `${user}-${i}`,
          messageId: `${user}-${i}-m`,
          anchor: { start: 0, end: 0 },
          version: 0,
          text: `comment ${i}`,
        };
        for (let attempt = 0; ; attempt++) {
          const ref = `${user}-${i}-${attempt}`;
          let answer: Message | undefined;
          try {
            c.send({ t: 'comment', docId, ref, command });
            answer = await Promise.race([
              c.next((m) => (m.t === 'comment-ack' || m.t === 'error') && m.ref === ref, 30_000),
              c.closed.then(() => undefined),
            ]);
          } catch {
            answer = undefined; // the socket was gone before the send
          }
          if (answer?.t === 'comment-ack') {
            acked.get(docId)!.add(command.threadId);
            break;
          }
          if (answer !== undefined && answer.retriable !== true) {
            errors.push(answer);
            break;
          }
          if (answer === undefined) {
            // The instance died: reconnect to the other one, open again, resend the same command.
            reconnects++;
            url = 1 - url;
            c = track(await authed(urls[url]!, user));
            for (const d of docIds) await open(c, d);
          } else {
            await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfterMs ?? 200)));
          }
          if (attempt > 50) throw new Error(`${user}: comment ${i} not acked after ${attempt} attempts`);
        }
      }
      return reconnects;
    }

    const running = [
      commenter('ann', [a.url, b.url]),
      commenter('ben', [a.url, b.url]),
      commenter('cat', [b.url, a.url]),
      commenter('dan', [b.url, a.url]),
    ];
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const ackedBefore = [...acked.values()].reduce((n, s) => n + s.size, 0);
    a.kill('SIGKILL');
    await a.exited;
    await until('b to own every partition', async () =>
      (await b.status()).ownedPartitions.length === PARTITIONS ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stopping = true;
    const reconnects = (await Promise.all(running)).reduce((n, r) => n + r, 0);
    assert.deepEqual(errors, [], 'only retriable errors');
    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    assert.ok(
      ackedBefore > 0 && total > ackedBefore,
      `comments acked before (${ackedBefore}) and after (${total}) the kill`,
    );
    assert.ok(reconnects >= 2, 'the killed instance’s commenters reconnected');

    const reader = track(await authed(b.url, 'auditor'));
    for (const docId of docIds) {
      const inLog = (await commentEvents(docId)).map((e) => e.body.threadId);
      assert.equal(new Set(inLog).size, inLog.length, `${docId}: no comment twice in the log`);
      for (const threadId of acked.get(docId)!)
        assert.ok(inLog.includes(threadId), `${docId}: acked ${threadId} is in the log`);
      const onOpen = new Set(threadsOf(await open(reader, docId)).map((th) => th.threadId));
      for (const threadId of inLog) assert.ok(onOpen.has(threadId), `${docId}: ${threadId} is in the threads on open`);
    }
    console.log(`      SIGKILL: ${total} comments acked (${ackedBefore} before the kill), ${reconnects} reconnects`);
  });
});
