/**
 * Real SDK clients (@collab/client) over real WebSockets, with seeded random delays on every frame, against one
 * command-service on real Kafka: they converge to identical text that matches the log; a client that loses its
 * connection while typing loses and duplicates nothing; a client whose replica is corrupted on purpose notices
 * through the state hash and resyncs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ClientDocument } from '@collab/client';
import { CollabClient } from '@collab/client';
import { laggySocketClass } from '@collab/client/testing';
import WebSocket from 'ws';
import type { OpCommitted } from '@collab/core';
import { isOpCommitted } from '@collab/core';
import { Doc, type } from '@collab/ot-text';
import { seeded } from './support/convergence.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, openLog, startService, token } from './support/service.js';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function history(t: TestTopic, docId: string): Promise<OpCommitted[]> {
  const log = await openLog(t);
  try {
    const out: OpCommitted[] = [];
    for await (const batch of log.read(log.partitionFor(docId), 0n))
      for (const r of batch) if (r.value.docId === docId && isOpCommitted(r.value)) out.push(r.value);
    return out;
  } finally {
    await log.close();
  }
}

/** The log must be gapless and duplicate-free, and replaying it must give `text`. */
function assertLogMatches(ops: readonly OpCommitted[], text: string): void {
  ops.forEach((op, i) => assert.equal(op.version, i + 1, `version ${i + 1} is missing or out of place`));
  const keys = new Set(ops.map((o) => `${o.clientId}:${o.seq}`));
  assert.equal(keys.size, ops.length, 'an op was committed twice');
  let doc = Doc.fromString('');
  for (const op of ops) doc = type.apply(doc, op.op);
  assert.equal(doc.toString(), text, 'the log replayed differs from the clients');
}

describe('SDK clients against the command-service (real Kafka, laggy sockets)', function () {
  this.timeout(180_000);
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let topic: TestTopic;
  let svc: RunningService;
  const clients: CollabClient[] = [];

  before(async () => {
    topic = await freshTopic(2);
    svc = await startService(topic, { hashEvery: 5 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
  });

  async function connect(random: () => number, maxDelayMs: number, user: string) {
    const { LaggySocket, sockets } = laggySocketClass(WebSocket, random, maxDelayMs);
    const client = new CollabClient({ url: svc.url, token: () => token(user), WebSocket: LaggySocket });
    clients.push(client);
    return { client, sockets };
  }

  it(`many clients typing concurrently with random delays converge to the log's text (seed ${seed})`, async () => {
    const random = seeded(seed);
    const docIds = [`conv-a-${randomUUID()}`, `conv-b-${randomUUID()}`];
    const docs: ClientDocument[] = [];
    for (let i = 0; i < 6; i++) {
      const { client } = await connect(random, 30, `user${i}`);
      for (const docId of docIds) docs.push(await client.openDocument(docId));
    }
    // Bursts of typing and deleting at random places, interleaved across clients.
    for (let step = 0; step < 400; step++) {
      const doc = docs[Math.floor(random() * docs.length)]!;
      const len = doc.length;
      if (len > 10 && random() < 0.3) {
        const at = Math.floor(random() * (len - 3));
        doc.delete(at, 1 + Math.floor(random() * 3));
      } else {
        doc.insert(
          Math.floor(random() * (len + 1)),
          random() < 0.1 ? '😀' : String.fromCharCode(97 + Math.floor(random() * 26)),
        );
      }
      if (step % 20 === 0) await new Promise((resolve) => setTimeout(resolve, random() * 40));
    }
    for (const docId of docIds) {
      const replicas = docs.filter((d) => d.id === docId);
      await until(`${docId} quiesces with every replica equal`, () =>
        replicas.every(
          (d) => d.pendingCount === 0 && d.text === replicas[0]!.text && d.version === replicas[0]!.version,
        ),
      );
      const ops = await history(topic, docId);
      assert.equal(ops.length, replicas[0]!.version);
      assertLogMatches(ops, replicas[0]!.text);
    }
  });

  it('a client that loses its connection while typing loses nothing and duplicates nothing', async () => {
    const random = seeded(seed + 1);
    const docId = `reconnect-${randomUUID()}`;
    const steady = await (await connect(random, 5, 'steady')).client.openDocument(docId);
    const flaky = await connect(random, 5, 'flaky');
    const doc = await flaky.client.openDocument(docId);
    let disconnects = 0;
    flaky.client.events.on('state', ({ state }) => {
      if (state !== 'online') disconnects++;
    });
    const markers: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 8; k++) {
        const marker = `<${round}.${k}>`;
        markers.push(marker);
        doc.insert(doc.length, marker);
        steady.insert(0, '.');
      }
      // Drop the connection with edits in flight and queued: frames not yet sent are lost with it.
      const drops = disconnects;
      flaky.sockets[flaky.sockets.length - 1]!.kill();
      await until('the flaky client notices the drop', () => disconnects > drops, 10_000);
      for (let k = 8; k < 12; k++) {
        const marker = `<${round}.${k}>`;
        markers.push(marker);
        doc.insert(doc.length, marker); // typed while disconnected
      }
      await until('the flaky client is back online', () => flaky.client.state === 'online', 20_000);
    }
    await until(
      'both converge with nothing pending',
      () => doc.pendingCount === 0 && steady.pendingCount === 0 && doc.text === steady.text,
    );
    for (const marker of markers) assert.equal(doc.text.split(marker).length - 1, 1, `${marker} appears exactly once`);
    assertLogMatches(await history(topic, docId), doc.text);
  });

  it('a replica corrupted on purpose is detected by the state hash and resyncs to the server text', async () => {
    const docId = `diverge-${randomUUID()}`;
    const random = seeded(seed + 2);
    const writer = await (await connect(random, 0, 'writer')).client.openDocument(docId);
    const victim = await connect(random, 0, 'victim');
    const victimDoc = await victim.client.openDocument(docId);
    writer.insert(0, 'the server text ');
    await until('the victim has it', () => victimDoc.text === writer.text);
    const events: string[] = [];
    victimDoc.on('hash', ({ ok }) => events.push(ok ? 'hash-ok' : 'hash-mismatch'));
    victimDoc.on('resync', () => events.push('resync'));
    // Corrupt the victim's replica behind the SDK's back: its idea of the server's text is now wrong. The texts
    // live in the DocumentSync's PendingOps (packages/client/src/pending-ops.ts: `confirmed` and `text`).
    const ops = (victimDoc as unknown as { sync: { ops?: Record<string, unknown> } }).sync.ops;
    assert.ok(
      ops !== undefined && ops.confirmed instanceof Doc && ops.text instanceof Doc,
      `cannot find the confirmed text in DocumentSync's pending ops (${Object.keys(ops ?? {}).join(', ')})`,
    );
    // Same length, different letters: later ops still fit, so only the hash can tell.
    const corrupted = Doc.fromString(writer.text.toUpperCase());
    ops.confirmed = corrupted;
    ops.text = corrupted;
    // Keep writing, one acknowledged op at a time: within hashEvery (5) versions a hash arrives, mismatches, and
    // the victim reloads.
    for (let i = 0; i < 8; i++) {
      writer.insert(writer.length, `${i}`);
      await until(`op ${i} acknowledged`, () => writer.pendingCount === 0);
    }
    await until('the victim resynced to the server text', () => victimDoc.text === writer.text, 20_000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}; events: ${events.join(', ')}; victim ${JSON.stringify(victimDoc.text)} v${victimDoc.version}; writer ${JSON.stringify(writer.text)} v${writer.version}`,
        );
      },
    );
    assert.ok(events.includes('hash-mismatch'), `events: ${events.join(', ')}`);
    assertLogMatches(await history(topic, docId), writer.text);
  });
});
