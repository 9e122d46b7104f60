/** What the contract cannot say: Redis specifics (connections, reconnects, failures, key layout). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { EventRecorder, eventually } from '@collab/contracts';
import { isCollabError, type PresenceBus } from '@collab/core';
import { useStack } from '@collab/infra';
import { createRedisPresenceBus, docNames } from '../src/index.js';

const LONG_TTL_MS = 60_000;

describe('@collab/adapter-redis specifics', function () {
  const keyPrefix = `test-${randomUUID()}:`;
  let url: string;
  let admin: Redis;
  const buses: PresenceBus[] = [];
  const bus = ({ connectionName, redis }: { connectionName?: string; redis?: Redis } = {}): PresenceBus => {
    const b =
      redis !== undefined
        ? createRedisPresenceBus({ redis, keyPrefix })
        : createRedisPresenceBus({ url, keyPrefix, ...(connectionName === undefined ? {} : { connectionName }) });
    buses.push(b);
    return b;
  };
  const doc = (): string => `doc-${randomUUID()}`;
  const state = (clientId: string, data: Record<string, unknown> = {}) => ({ clientId, userId: 'u', data });

  /** Ids of the server-side connections with this CLIENT SETNAME. */
  const connectionIds = async (name: string): Promise<string[]> =>
    ((await admin.client('LIST')) as string)
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? '?');

  before(async function () {
    url = (await useStack()).redis.url;
    admin = new Redis(url);
  });
  afterEach(async function () {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  after(async function () {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  });

  describe('reconnects', function () {
    /** Announce until the recorder sees it: after a reconnect, the re-SUBSCRIBE lands at a time we cannot await. */
    const deliveredAgain = async (b: PresenceBus, rec: EventRecorder, id: string): Promise<void> => {
      let n = 0;
      await eventually(async () => {
        const mark = `after-kill-${n++}`;
        await b.announce(id, state('c1', { mark }), LONG_TTL_MS);
        return rec
          .next((e) => e.kind === 'update' && e.state.data.mark === mark, mark, 200)
          .then(() => true)
          .catch(() => false);
      }, 'delivery after the subscriber connection was killed');
    };

    it('keeps subscriptions working when the subscriber connection is killed', async function () {
      const name = `presence-test-${randomUUID().slice(0, 8)}`;
      const [subscriberBus, publisher] = [bus({ connectionName: name }), bus()];
      const id = doc();
      const rec = new EventRecorder();
      await subscriberBus.subscribe(id, rec.listener);
      const [before] = await connectionIds(`${name}:sub`);
      assert.ok(before !== undefined, 'the subscriber connection carries its name');
      // Only our connection: CLIENT KILL TYPE pubsub would also cut other suites sharing this Redis.
      await admin.client('KILL', 'ID', before);
      await deliveredAgain(publisher, rec, id);
      const after = await connectionIds(`${name}:sub`);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], before, 'it really was a new connection');
    });

    it('keeps commands working when the command connection is killed', async function () {
      const name = `presence-test-${randomUUID().slice(0, 8)}`;
      const b = bus({ connectionName: name });
      const id = doc();
      await b.announce(id, state('c1'), LONG_TTL_MS);
      const [cmd] = await connectionIds(`${name}:cmd`);
      await admin.client('KILL', 'ID', cmd!);
      // The next command is queued while ioredis reconnects, then sent: no error reaches the caller.
      await b.announce(id, state('c2'), LONG_TTL_MS);
      assert.deepEqual((await b.list(id)).map((s) => s.clientId).sort(), ['c1', 'c2']);
    });
  });

  describe('connections and reference counting', function () {
    it('uses one subscriber connection per bus and one SUBSCRIBE per channel', async function () {
      const name = `presence-test-${randomUUID().slice(0, 8)}`;
      const b = bus({ connectionName: name });
      const [id1, id2] = [doc(), doc()];
      const { channel } = docNames(keyPrefix, id1);
      const numsub = async (): Promise<number> => Number(((await admin.pubsub('NUMSUB', channel)) as unknown[])[1]);
      const [r1, r2, r3] = [new EventRecorder(), new EventRecorder(), new EventRecorder()];
      const un1 = await b.subscribe(id1, r1.listener);
      const un2 = await b.subscribe(id1, r2.listener);
      await b.subscribe(id2, r3.listener);
      assert.equal(await numsub(), 1, 'two listeners, one server-side subscription');
      assert.equal((await connectionIds(`${name}:sub`)).length, 1);
      await un1();
      assert.equal(await numsub(), 1, 'still one listener left');
      await un2();
      assert.equal(await numsub(), 0, 'the last listener unsubscribed the channel');
    });

    it('runs on a connection the caller owns, and leaves it open on close', async function () {
      const own = new Redis(url);
      try {
        const b = bus({ redis: own });
        const id = doc();
        const rec = new EventRecorder();
        await b.subscribe(id, rec.listener);
        await b.announce(id, state('c1'), LONG_TTL_MS);
        await rec.next((e) => e.kind === 'update', 'update');
        await b.close();
        assert.equal(await own.ping(), 'PONG');
      } finally {
        own.disconnect();
      }
    });
  });

  describe('robustness', function () {
    it('ignores malformed messages and survives a throwing listener', async function () {
      const b = bus();
      const id = doc();
      const rec = new EventRecorder();
      await b.subscribe(id, () => {
        throw new Error('a bad listener');
      });
      await b.subscribe(id, rec.listener);
      const { channel } = docNames(keyPrefix, id);
      await admin.publish(channel, 'not json');
      await admin.publish(channel, JSON.stringify({ kind: 'update', docId: id, state: { clientId: 'x' } }));
      await b.announce(id, state('c1'), LONG_TTL_MS);
      await rec.next((e) => e.kind === 'update', 'the valid update');
      assert.equal(rec.events.length, 1, 'the malformed ones were dropped');
    });

    it('removes expired entries from Redis on the next announce, and lets the keys expire', async function () {
      const b = bus();
      const id = doc();
      const names = docNames(keyPrefix, id);
      await b.announce(id, state('gone'), 50);
      await eventually(async () => (await b.list(id)).length === 0, 'expiry');
      assert.equal(await admin.hexists(names.states, 'gone'), 1, 'still stored until the next announce');
      await b.announce(id, state('here'), 5_000);
      assert.deepEqual(await admin.zrange(names.clients, 0, -1), ['here']);
      assert.deepEqual(await admin.hkeys(names.states), ['here']);
      const pttl = await admin.pttl(names.clients);
      assert.ok(pttl > 5_000 && pttl <= 6_000, `PTTL ${pttl}: just past the newest entry`);
    });

    it('rejects bad arguments with ERR_INVALID_ARGUMENT', async function () {
      const b = bus();
      const invalid = (err: unknown) => isCollabError(err, 'ERR_INVALID_ARGUMENT');
      await assert.rejects(b.announce('', state('c'), 1000), invalid);
      await assert.rejects(b.announce('d', state(''), 1000), invalid);
      await assert.rejects(b.announce('d', state('c'), 0), invalid);
      await assert.rejects(b.announce('d', state('c'), 1.5), invalid);
      assert.throws(() => createRedisPresenceBus({ url, keyPrefix: 'a{b}' }), invalid);
    });
  });

  describe('failures', function () {
    it('an unreachable server is ERR_UNAVAILABLE naming it, within a bounded time', async function () {
      const dead = createRedisPresenceBus({ url: 'redis://:secret@127.0.0.1:1', timeouts: { connectTimeoutMs: 500 } });
      const started = Date.now();
      const calls = [
        () => dead.announce('d', state('c'), 1000),
        () => dead.list('d'),
        () => dead.leave('d', 'c'),
        () => dead.subscribe('d', () => {}),
      ];
      for (const call of calls) {
        await assert.rejects(call(), (err) => {
          assert.ok(isCollabError(err, 'ERR_UNAVAILABLE'), String(err));
          assert.ok(err.retriable);
          assert.match(err.message, /redis:\/\/:\*\*\*@127\.0\.0\.1:1\b/);
          assert.doesNotMatch(err.message, /secret/);
          return true;
        });
      }
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      await dead.close();
      await dead.close(); // idempotent
      await assert.rejects(dead.list('d'), (err) => isCollabError(err, 'ERR_CLOSED'));
    });
  });
});
