/**
 * Presence end to end on the real stack: SDK clients over real WebSockets, command-service instances on real
 * Kafka (two of them, forwarding through the command bus), presence over real Redis.
 *
 * - users on different instances see each other's cursors, names and colours;
 * - a cursor stays on its character while others type concurrently (checked on every presence event);
 * - a client whose socket dies disappears at once; one whose instance died (its entry just stops being
 *   refreshed) disappears within the TTL;
 * - only sessions authorized for a document get its presence, and bad presence messages get error codes;
 * - a Redis restart (our own container) is survived: clients re-announce and see each other move again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createKafkaCommandBus } from '@collab/adapter-kafka';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import type { ClientDocument, CollabClient } from '@collab/client';
import type { CommandBus, PresenceBus } from '@collab/core';
import { useStack, freePort } from '@collab/infra';
import type { MultiTopic } from './support/processes.js';
import { freshTopics, until } from './support/processes.js';
import type { RunningService } from './support/service.js';
import { startService } from './support/service.js';
import { byUser, RawSocket, sdkClient, seen, signed } from './support/presence-clients.js';

const run = promisify(execFile);
const TTL_MS = 1500;

describe('presence across instances (real Kafka and Redis)', function () {
  let t: MultiTopic;
  let a: RunningService;
  let b: RunningService;
  const buses: Array<PresenceBus | CommandBus> = [];
  const clients: CollabClient[] = [];
  let keyPrefix: string;
  let redisUrl: string;

  async function instance(): Promise<RunningService> {
    const commandBus = await createKafkaCommandBus({
      brokers: t.brokers,
      partitionCount: t.partitions,
      clientId: `presence-test-${randomUUID().slice(0, 6)}`,
      commandsTopic: t.commandsTopic,
      repliesTopic: t.repliesTopic,
    });
    const presenceBus = createRedisPresenceBus({ url: redisUrl, keyPrefix });
    buses.push(commandBus, presenceBus);
    return startService(t, {
      ownAllPartitions: false,
      bus: commandBus,
      consumerGroup: t.group,
      presence: { bus: presenceBus, ttlMs: TTL_MS, updatesPerSecond: 20 },
    });
  }

  async function open(svc: RunningService, userId: string, docId: string): Promise<ClientDocument> {
    const client = await sdkClient(svc.url, userId, userId[0]!.toUpperCase() + userId.slice(1));
    clients.push(client);
    return client.openDocument(docId);
  }

  before(async function () {
    this.timeout(180_000);
    const stack = await useStack();
    redisUrl = stack.redis.url;
    keyPrefix = `test-${randomUUID().slice(0, 8)}:`;
    t = await freshTopics(2);
    a = await instance();
    b = await instance();
    // Ownership settles through the commands group: wait until every partition has exactly one owner.
    await until('both instances to own the partitions between them', () => {
      const owned = [...a.service.hub.ownedPartitions, ...b.service.hub.ownedPartitions].sort();
      return owned.length === t.partitions && owned.every((p, i) => p === i) ? true : undefined;
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await a?.stop();
    await b?.stop();
    await Promise.all(buses.map((bus) => bus.close()));
  });

  it('users on different instances see each other, with names and colours, and cursors where they are', async () => {
    const docId = `doc-${randomUUID()}`;
    const alice = await open(a, 'alice', docId);
    alice.insert(0, 'hello world');
    await until('the text to be acked', () => (alice.pendingCount === 0 ? true : undefined), 10_000, 20);
    const bob = await open(b, 'bob', docId);
    await seen(alice, (o) => byUser(o, 'bob') !== undefined, 'alice to see bob join');
    alice.setCursor(6, 11); // "world" selected, caret at the end
    bob.setCursor(0);
    const bobView = await seen(bob, (o) => byUser(o, 'alice')?.cursor?.head === 11, "bob to see alice's selection");
    const seenAlice = byUser(bobView, 'alice')!;
    assert.equal(seenAlice.name, 'Alice');
    assert.match(seenAlice.color, /^#[0-9a-f]{6}$/);
    assert.deepEqual(seenAlice.cursor, { anchor: 6, head: 11 });
    await seen(alice, (o) => byUser(o, 'bob')?.cursor?.head === 0, "alice to see bob's caret");
    assert.equal(byUser(alice.others, 'bob')?.name, 'Bob');
  });

  it('a cursor stays on its character while others type before and after it, on both instances', async () => {
    const docId = `doc-${randomUUID()}`;
    const alice = await open(a, 'alice', docId);
    alice.insert(0, 'The quick brown fox jumps');
    await until('the text to be acked', () => (alice.pendingCount === 0 ? true : undefined), 10_000, 20);
    const bob = await open(b, 'bob', docId);
    const carol = await open(a, 'carol', docId);
    const caret = alice.text.indexOf('fox');
    alice.setCursor(caret, caret + 3);
    for (const watcher of [bob, carol]) {
      await seen(watcher, (o) => byUser(o, 'alice')?.cursor?.anchor === caret, "alice's cursor");
    }
    // Every time a watcher's view changes, alice's selection must still be on "fox" in that watcher's text.
    const violations: string[] = [];
    for (const [name, watcher] of [
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      watcher.on('presence', ({ users }) => {
        const c = byUser(users, 'alice')?.cursor;
        if (c === undefined) return violations.push(`${name}: alice has no cursor`);
        const text = watcher.text.slice(c.anchor, c.head);
        if (text !== 'fox') violations.push(`${name}: alice's selection covers ${JSON.stringify(text)}`);
      });
    }
    // Bob (instance b) and carol (instance a) type concurrently before and after the selection.
    for (let i = 0; i < 25; i++) {
      bob.insert(0, 'b');
      carol.insert(carol.length, 'c');
      if (i % 5 === 0) carol.insert(0, 'C');
      if (i % 3 === 0) bob.insert(bob.length, 'B');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(
      'everyone to converge',
      () =>
        [alice, bob, carol].every((d) => d.pendingCount === 0) &&
        alice.version === bob.version &&
        bob.version === carol.version
          ? true
          : undefined,
      20_000,
      20,
    );
    for (const [name, watcher] of [
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      const c = byUser(watcher.others, 'alice')?.cursor;
      assert.ok(c !== undefined, `${name} still sees alice's cursor`);
      assert.equal(watcher.text.slice(c.anchor, c.head), 'fox', `${name}'s view`);
    }
    assert.deepEqual(violations, [], 'the cursor never jumped');
    // Alice's own view of her text agrees, and her next update lands in the same place for everyone.
    const now = alice.text.indexOf('fox');
    alice.setCursor(now + 1);
    await seen(bob, (o) => byUser(o, 'alice')?.cursor?.anchor === bob.text.indexOf('fox') + 1, 'the new caret');
  });

  it('a client whose socket dies disappears at once; one whose instance died, within the TTL', async () => {
    const docId = `doc-${randomUUID()}`;
    const alice = await open(a, 'alice', docId);
    const raw = await RawSocket.connect(b.url);
    raw.send({ t: 'auth', token: await signed('dave', 'Dave'), protocol: 1 });
    await raw.next('welcome');
    raw.send({ t: 'open', docId });
    await raw.next('snapshot');
    await raw.next('presence');
    await seen(alice, (o) => byUser(o, 'dave') !== undefined, 'dave');
    const killed = Date.now();
    raw.terminate();
    await seen(alice, (o) => byUser(o, 'dave') === undefined, 'dave to be gone', TTL_MS);
    assert.ok(Date.now() - killed < TTL_MS, 'gone within the TTL');

    // An instance that dies leaves its sessions' entries in Redis, unrefreshed: a bus of its own announces once
    // and never again, like a crashed instance.
    const ghostBus = createRedisPresenceBus({ url: redisUrl, keyPrefix });
    try {
      const data = { name: 'Ghost', color: '#000000', version: 0, sentAt: Date.now(), ttlMs: TTL_MS };
      await ghostBus.announce(docId, { clientId: `s-${randomUUID()}`, userId: 'ghost', data }, TTL_MS);
      await seen(alice, (o) => byUser(o, 'ghost') !== undefined, 'the ghost to appear');
      const silent = Date.now();
      await seen(alice, (o) => byUser(o, 'ghost') === undefined, 'the ghost to vanish', TTL_MS + 1000);
      assert.ok(Date.now() - silent <= TTL_MS + 100, `vanished after ${Date.now() - silent} ms (TTL ${TTL_MS})`);
    } finally {
      await ghostBus.close();
    }
    // A late joiner does not see it either.
    const erin = await open(b, 'erin', docId);
    const list = await seen(erin, (o) => byUser(o, 'alice') !== undefined, 'the list of who is here');
    assert.equal(byUser(list, 'ghost'), undefined);
  });

  it('only sessions allowed to read a document get or send its presence; bad messages get error codes', async () => {
    const docId = `secret-${randomUUID()}`;
    const alice = await open(a, 'alice', docId);
    alice.setCursor(0);
    const mallory = await RawSocket.connect(b.url);
    try {
      mallory.send({ t: 'auth', token: await signed('mallory', 'M', { 'public-*': ['read'] }), protocol: 1 });
      await mallory.next('welcome');
      mallory.send({ t: 'open', docId });
      assert.equal((await mallory.next('error')).code, 'ERR_FORBIDDEN');
      mallory.send({ t: 'presence', docId, version: 0, cursor: { anchor: 0, head: 0 } });
      const err = await mallory.next('error');
      assert.equal(err.code, 'ERR_DOC_NOT_OPEN');
      assert.equal(err.docId, docId);
      mallory.send({ t: 'presence', docId: 'public-x', version: 0 });
      assert.equal((await mallory.next('error')).code, 'ERR_DOC_NOT_OPEN');
      mallory.send({ t: 'open', docId: 'public-x' });
      await mallory.next('snapshot');
      for (const bad of [
        { t: 'presence', docId: 'public-x' },
        { t: 'presence', docId: 'public-x', version: 0, cursor: { anchor: -1, head: 0 } },
        { t: 'presence', docId: 'public-x', version: 0, color: 'blue' },
        { t: 'presence', docId: 'public-x', version: 5 },
        { t: 'presence', docId: 'public-x', version: 0, cursor: { anchor: 1, head: 1 } },
      ]) {
        mallory.send(bad);
        const e = await mallory.next('error');
        assert.equal(e.code, 'ERR_INVALID_MESSAGE', JSON.stringify(bad));
      }
      // Nothing of the secret document ever reached mallory.
      assert.ok(mallory.received.every((m) => m['docId'] !== docId || m.t === 'error'));
      assert.equal(byUser(alice.others, 'mallory'), undefined);
    } finally {
      mallory.close();
    }
  });
});

describe('presence survives a Redis restart (own container)', function () {
  let t: MultiTopic;
  let svc: RunningService | undefined;
  let container: string | undefined;
  let bus: PresenceBus | undefined;
  let port = 0;
  const clients: CollabClient[] = [];

  before(async function () {
    this.timeout(120_000);
    const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', 'collab/redis']);
    const image = stdout.split('\n').find((l) => l.trim() !== '');
    if (image === undefined) throw new Error('no collab/redis image: run npm run infra:images');
    // A fixed host port, so the restarted container is where the clients reconnect to.
    port = await freePort();
    container = (
      await run('docker', ['run', '-d', '--pull', 'never', '-p', `127.0.0.1:${port}:6379`, image])
    ).stdout.trim();
    bus = createRedisPresenceBus({ url: `redis://127.0.0.1:${port}` });
    await until(
      'our redis to answer',
      () =>
        bus!.list('probe').then(
          () => true,
          () => undefined,
        ),
      30_000,
    );
    t = await freshTopics(2);
    svc = await startService(t, { presence: { bus, ttlMs: TTL_MS } });
  });

  after(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
    await bus?.close();
    if (container !== undefined) await run('docker', ['rm', '-f', container]);
  });

  it('clients re-announce after the restart and see each other move again; editing never stopped', async () => {
    const docId = `doc-${randomUUID()}`;
    const open = async (userId: string) => {
      const client = await sdkClient(svc!.url, userId);
      clients.push(client);
      return client.openDocument(docId);
    };
    const alice = await open('alice');
    alice.insert(0, 'before the restart');
    const bob = await open('bob');
    alice.setCursor(3);
    await seen(bob, (o) => byUser(o, 'alice')?.cursor?.anchor === 3, 'alice before the restart');

    await run('docker', ['restart', '-t', '0', container!]);
    // The restarted Redis is empty: the heartbeats (every TTL/3) put both entries back.
    await until(
      'both entries to be re-announced',
      () =>
        bus!.list(docId).then(
          (l) => (l.length === 2 ? true : undefined),
          () => undefined,
        ),
      20_000,
    );
    alice.setCursor(5);
    await seen(bob, (o) => byUser(o, 'alice')?.cursor?.anchor === 5, 'alice after the restart');
    bob.setCursor(1);
    await seen(alice, (o) => byUser(o, 'bob')?.cursor?.anchor === 1, 'bob after the restart');
    // Sessions of one instance see each other without the bus; what proves the subscription is back is a
    // session of another instance (a bus of its own) reaching them through Redis pub/sub.
    const otherInstance = createRedisPresenceBus({ url: `redis://127.0.0.1:${port}` });
    try {
      const data = { name: 'Olga', color: '#000000', version: 0, sentAt: Date.now(), ttlMs: TTL_MS };
      await otherInstance.announce(docId, { clientId: `s-${randomUUID()}`, userId: 'olga', data }, TTL_MS);
      await seen(bob, (o) => byUser(o, 'olga') !== undefined, 'another instance through pub/sub after the restart');
    } finally {
      await otherInstance.close();
    }
    // Ops never depended on Redis.
    bob.insert(0, '>');
    await until('the edit to reach alice', () => (alice.text.startsWith('>') ? true : undefined), 10_000, 20);
  });
});
