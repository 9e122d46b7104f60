/**
 * The PresenceRouter with an in-process bus, a fake document and a manual clock: who sees what, throttling and
 * coalescing, heartbeats and expiry, authorization, validation, and positions moved through concurrent ops.
 */
import assert from 'node:assert/strict';
import type { PresenceBus, PresenceEvent, PresenceState } from '@collab/core';
import { InProcessPresenceBus, InProcessPresenceHub } from '@collab/adapter-sqlite';
import { insertOp, removeOp } from '@collab/ot-text';
import { colorFor } from '../src/colors.js';
import type { PresenceServerMessage, PresenceUser } from '@collab/protocol';
import { PresenceClientMessage } from '@collab/protocol/schemas';
import type { PresenceMember } from '../src/router.js';
import { PresenceError, PresenceRouter } from '../src/router.js';
import { FakeDocuments } from './support/fake-documents.js';
import { ManualClock, settle } from './support/manual-clock.js';

const DOC = 'doc-1';

class TestMember implements PresenceMember {
  readonly received: PresenceServerMessage[] = [];
  constructor(
    readonly sessionId: string,
    readonly userId: string,
    readonly name: string | undefined = undefined,
  ) {}
  deliver(message: PresenceServerMessage): void {
    this.received.push(message);
  }
  /** The updates received, newest last. */
  updates(): PresenceUser[] {
    return this.received.flatMap((m) => (m.t === 'presence' && 'update' in m ? [m.update] : []));
  }
  lastUpdateOf(sessionId: string): PresenceUser | undefined {
    return this.updates()
      .filter((u) => u.sessionId === sessionId)
      .at(-1);
  }
  leaves(): string[] {
    return this.received.flatMap((m) => (m.t === 'presence-leave' ? [m.sessionId] : []));
  }
}

/** A member on a transport that takes pre-encoded frames (the WebSocket session's). */
class EncodedMember extends TestMember {
  readonly frames: string[] = [];
  writes = 0;
  deliverEncoded(frames: readonly string[]): void {
    this.writes++;
    this.frames.push(...frames);
    for (const f of frames) this.received.push(JSON.parse(f) as PresenceServerMessage);
  }
}

/** Counts what reaches the bus, to check throttling where it matters: at the shared, costly hop. */
function countingBus(bus: PresenceBus): PresenceBus & { announced: PresenceState[] } {
  const announced: PresenceState[] = [];
  return Object.assign(Object.create(bus) as PresenceBus, {
    announced,
    announce: (docId: string, state: PresenceState, ttl: number) => {
      announced.push(state);
      return bus.announce(docId, state, ttl);
    },
  });
}

function setup(options: { ttlMs?: number; updatesPerSecond?: number } = {}) {
  const clock = new ManualClock();
  const hub = new InProcessPresenceHub({ now: () => clock.now() });
  const documents = new FakeDocuments();
  const bus = countingBus(new InProcessPresenceBus({ hub }));
  const router = new PresenceRouter({ bus, documents, clock, ttlMs: 3000, updatesPerSecond: 10, ...options });
  return { clock, hub, documents, bus, router };
}

/** Alice and Bob in DOC, both joined and the joins delivered. */
async function aliceAndBob(router: PresenceRouter): Promise<{ alice: TestMember; bob: TestMember }> {
  const alice = new TestMember('s-a', 'alice');
  const bob = new TestMember('s-b', 'bob');
  await router.join(alice, DOC);
  await router.join(bob, DOC);
  await settle();
  return { alice, bob };
}

const msg = (version: number, anchor?: number, head = anchor): PresenceClientMessage =>
  anchor === undefined
    ? { t: 'presence', docId: DOC, version }
    : { t: 'presence', docId: DOC, version, cursor: { anchor, head: head! } };

describe('PresenceRouter', () => {
  it('sends a joiner everyone present, and everyone else the joiner, stamped by the server, never to itself', async () => {
    const { router, documents } = setup();
    documents.get(DOC).text = 'hello';
    const alice = new TestMember('s-alice', 'alice', 'Alice');
    const bob = new TestMember('s-bob', 'bob');
    await router.join(alice, DOC);
    await settle();
    assert.deepEqual(alice.received, [{ t: 'presence', docId: DOC, users: [] }]);
    await router.join(bob, DOC);
    await settle();
    const list = bob.received[0];
    assert.ok(list?.t === 'presence' && 'users' in list);
    assert.deepEqual(
      list.users.map((u) => [u.sessionId, u.userId, u.name, u.color]),
      [['s-alice', 'alice', 'Alice', colorFor('alice')]],
    );
    // Bob has no name in his token: his user id stands in, and his colour is derived from it.
    assert.deepEqual(alice.lastUpdateOf('s-bob'), {
      sessionId: 's-bob',
      userId: 'bob',
      name: 'bob',
      color: colorFor('bob'),
      version: 0,
    });
    assert.equal(alice.lastUpdateOf('s-alice'), undefined, 'nobody gets their own presence back');
    assert.equal(bob.lastUpdateOf('s-bob'), undefined);
  });

  it('colours are deterministic per user and differ between users', () => {
    assert.equal(colorFor('alice'), colorFor('alice'));
    const colours = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(colorFor));
    assert.ok(colours.size >= 4, `only ${colours.size} distinct colours`);
  });

  it('lets the client choose a name only when its token has none, and its colour', async () => {
    const { router, documents } = setup();
    documents.get(DOC).text = 'abc';
    const named = new TestMember('s-1', 'u1', 'Token Name');
    const unnamed = new TestMember('s-2', 'u2');
    const watcher = new TestMember('s-3', 'u3');
    for (const m of [named, unnamed, watcher]) await router.join(m, DOC);
    await router.update(named, { ...msg(0, 1), name: 'Impostor', color: '#123456' });
    await router.update(unnamed, { ...msg(0, 2), name: 'Chosen' });
    await settle();
    assert.equal(watcher.lastUpdateOf('s-1')?.name, 'Token Name');
    assert.equal(watcher.lastUpdateOf('s-1')?.color, '#123456');
    assert.equal(watcher.lastUpdateOf('s-2')?.name, 'Chosen');
  });

  it('throttles per session: the first two updates go at once, the rest of a burst coalesces to its newest, the last always goes', async () => {
    const { router, documents, bus, clock } = setup({ updatesPerSecond: 10 });
    documents.get(DOC).text = 'x'.repeat(100);
    const { alice, bob } = await aliceAndBob(router);
    const before = bus.announced.length;
    for (let i = 1; i <= 20; i++) await router.update(alice, msg(0, i));
    await settle();
    // Two go now (a burst of two; in one turn they make one announcement, of the newer: 2); 3..20 wait and
    // coalesce.
    assert.equal(bus.announced.length - before, 1);
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 2, head: 2 });
    await clock.advance(99);
    assert.equal(bus.announced.length - before, 1, 'nothing before the next slot, 100 ms on');
    await clock.advance(1);
    assert.equal(bus.announced.length - before, 2, 'then exactly one: the newest');
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 20, head: 20 });
    // Sustained: 10 updates per 100 ms over one second → about 10 announcements, never more.
    const start = bus.announced.length;
    for (let step = 0; step < 100; step++) {
      await router.update(alice, msg(0, step % 50));
      await clock.advance(10);
    }
    await clock.advance(100); // the trailing update
    const sent = bus.announced.length - start;
    assert.ok(sent <= 11 + 1, `${sent} announcements in ~1.1 s at 10/s`);
    assert.ok(sent >= 9, `${sent}: the throttle must still let updates through`);
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 49, head: 49 }, 'the newest state wins');
    // Bob's own budget is separate.
    await router.update(bob, msg(0, 5));
    await settle();
    assert.deepEqual(alice.lastUpdateOf('s-b')?.cursor, { anchor: 5, head: 5 });
  });

  it('refuses presence for a document the session has not joined, and never delivers to it', async () => {
    const { router, documents } = setup();
    documents.get(DOC).text = 'abc';
    documents.get('other').text = 'xyz';
    const alice = new TestMember('s-a', 'alice');
    const outsider = new TestMember('s-o', 'mallory');
    await router.join(alice, DOC);
    await router.join(outsider, 'other');
    await assert.rejects(router.update(outsider, msg(0, 1)), (err: unknown) => {
      assert.ok(err instanceof PresenceError);
      assert.equal(err.code, 'ERR_DOC_NOT_OPEN');
      return true;
    });
    await router.update(alice, msg(0, 2));
    await settle();
    assert.ok(
      outsider.received.every((m) => m.docId === 'other'),
      'nothing of the other document reaches a session that did not open it',
    );
    assert.equal(alice.lastUpdateOf('s-o'), undefined);
  });

  it('refuses invalid presence with ERR_INVALID_MESSAGE (shape, version from the future, cursor past the text)', async () => {
    const { router, documents } = setup();
    const doc = documents.get(DOC);
    doc.text = 'abc';
    doc.version = 4;
    const alice = new TestMember('s-a', 'alice');
    await router.join(alice, DOC);
    const invalid = async (m: PresenceClientMessage, pattern: RegExp) =>
      assert.rejects(router.update(alice, m), (err: unknown) => {
        assert.ok(err instanceof PresenceError && err.code === 'ERR_INVALID_MESSAGE');
        assert.match(err.message, pattern);
        return true;
      });
    await invalid(msg(5, 0), /ahead of the document/);
    await invalid(msg(4, 4), /outside the text/);
    await router.update(alice, msg(4, 3)); // the end of the text is a valid position
    for (const bad of [
      { t: 'presence', docId: DOC },
      { t: 'presence', docId: DOC, version: -1 },
      { t: 'presence', docId: DOC, version: 1, cursor: { anchor: 1 } },
      { t: 'presence', docId: DOC, version: 1, cursor: { anchor: 1.5, head: 1 } },
      { t: 'presence', docId: DOC, version: 1, color: 'red' },
      { t: 'presence', docId: DOC, version: 1, name: '' },
      { t: 'presence', docId: DOC, version: 1, extra: true },
      { t: 'presence', docId: 'bad id', version: 1 },
    ]) {
      assert.equal(PresenceClientMessage.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it('keeps a cursor on its character while others type before and after it (seeded)', async () => {
    const { router, documents, clock } = setup({ updatesPerSecond: 1000 });
    const doc = documents.get(DOC);
    doc.text = 'The quick brown fox jumps over the lazy dog';
    const alice = new TestMember('s-a', 'alice');
    const bob = new TestMember('s-b', 'bob');
    await router.join(alice, DOC);
    await router.join(bob, DOC);
    const target = doc.text.indexOf('f'); // alice's caret before "fox", selection over "fox"
    // Alice sent her cursor at version 0; before the router handles it, three ops from others land.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let anchor = target;
    let head = target + 3;
    const others: Array<() => void> = [];
    for (let i = 0; i < 30; i++) {
      others.push(() => {
        const len = [...doc.text].length;
        const at = Math.floor(random() * (len + 1));
        // Never delete across the watched characters: what we check is that the cursor follows them.
        if (random() < 0.4 && at < len && (at + 1 <= anchor || at >= head)) {
          doc.commit(removeOp(at, 1), 'carol');
          if (at < anchor) {
            anchor--;
            head--;
          }
        } else {
          doc.commit(insertOp(at, '##'), 'carol');
          if (at < anchor) {
            anchor += 2;
            head += 2;
          } else if (at < head) {
            head += 2; // typed inside the selection: the selection grows
          }
        }
      });
    }
    for (const edit of others.slice(0, 10)) edit();
    await router.update(alice, { t: 'presence', docId: DOC, version: 0, cursor: { anchor: target, head: target + 3 } });
    await settle();
    let seen = bob.lastUpdateOf('s-a')!;
    assert.equal(seen.version, doc.version);
    assert.deepEqual(seen.cursor, { anchor, head });
    // Independent of the model above: the selection still covers "fox", plus whatever was typed inside it.
    const selected = (c: { anchor: number; head: number }) =>
      [...doc.text].slice(c.anchor, c.head).join('').replaceAll('#', '');
    assert.equal(selected(seen.cursor!), 'fox');
    // More ops, then a heartbeat re-announces: the cursor is moved again to the version of the day.
    for (const edit of others.slice(10)) edit();
    await router.update(alice, { t: 'presence', docId: DOC, version: 10, cursor: seen.cursor! });
    await clock.advance(1); // the throttle's next slot
    seen = bob.lastUpdateOf('s-a')!;
    assert.deepEqual(seen.cursor, { anchor, head });
    assert.equal(selected(seen.cursor!), 'fox');
  });

  it("moves a cursor past its owner's own insert at the caret, but keeps others' inserts after it", async () => {
    const { router, documents, clock } = setup({ updatesPerSecond: 1000 });
    const doc = documents.get(DOC);
    doc.text = 'hello world';
    const alice = new TestMember('s-a', 'alice');
    const bob = new TestMember('s-b', 'bob');
    await router.join(alice, DOC);
    await router.join(bob, DOC);
    // Alice typed "!" at 5; her SDK sent her caret in the confirmed text (5, before her pending op) at version 0.
    doc.commit(insertOp(5, '!'), 'alice');
    await router.update(alice, msg(0, 5));
    await settle();
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 6, head: 6 }, 'after her own "!"');
    // Bob types at exactly alice's caret (before alice's update is handled): her caret stays before his text.
    doc.commit(insertOp(6, '??'), 'bob');
    await router.update(alice, msg(1, 6));
    await clock.advance(1);
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 6, head: 6 });
    assert.equal(bob.lastUpdateOf('s-a')?.version, 2);
  });

  it('does not hold back a client that keeps to the rate when two of its updates arrive bunched', async () => {
    const { router, documents, bus, clock } = setup({ updatesPerSecond: 10 });
    documents.get(DOC).text = 'x'.repeat(100);
    const { alice, bob } = await aliceAndBob(router);
    const before = bus.announced.length;
    const start = clock.now();
    // Sent every 100 ms; the third is 95 ms late on the way, so it arrives 5 ms before the fourth.
    for (const [at, position] of [
      [0, 1],
      [100, 2],
      [295, 3],
      [300, 4],
    ] as const) {
      await clock.advance(start + at - clock.now());
      await router.update(alice, msg(0, position));
      await settle();
      assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: position, head: position }, `${position} at once`);
    }
    assert.equal(bus.announced.length - before, 4);
  });

  it('drops the cursor, not the user, when the named version is older than the window', async () => {
    const { router, documents, clock } = setup({ updatesPerSecond: 10 });
    const windowed = documents.get(DOC);
    windowed.text = 'abcdef';
    const alice = new TestMember('s-a', 'alice');
    const bob = new TestMember('s-b', 'bob');
    await router.join(alice, DOC);
    await router.join(bob, DOC);
    for (let i = 0; i < 8; i++) windowed.commit(insertOp(0, 'x'));
    windowed.recent = windowed.recent.slice(-5); // the window holds versions 4..8
    await router.update(alice, msg(2, 1)); // needs op 3, which the window no longer has
    await settle();
    const seen = bob.lastUpdateOf('s-a')!;
    assert.equal(seen.cursor, undefined, 'a cursor that cannot be moved correctly is not shown');
    assert.equal(seen.version, 8);
    await router.update(alice, msg(3, 1)); // needs ops 4..8: all there
    await clock.advance(100);
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 6, head: 6 });
  });

  it('heartbeats keep a live session visible; a silent one disappears within the TTL; leave is immediate', async () => {
    const { router, documents, clock, hub, bus } = setup({ ttlMs: 3000 });
    documents.get(DOC).text = 'abc';
    const { alice, bob } = await aliceAndBob(router);
    const start = bus.announced.length;
    await clock.advance(10_000);
    // Two sessions, a heartbeat every TTL/3 = 1 s each.
    assert.ok(bus.announced.length - start >= 18, `${bus.announced.length - start} heartbeats in 10 s`);
    assert.deepEqual(alice.leaves(), [], 'a heartbeating session never expires');
    // A client on another instance that crashed: announced once, then silence.
    hub.announce(
      DOC,
      {
        clientId: 's-ghost',
        userId: 'ghost',
        data: { name: 'Ghost', color: '#000000', version: 0, sentAt: clock.now(), ttlMs: 3000 },
      },
      3000,
    );
    await settle();
    assert.equal(alice.lastUpdateOf('s-ghost')?.name, 'Ghost');
    await clock.advance(2999);
    assert.deepEqual(alice.leaves(), []);
    await clock.advance(1);
    assert.deepEqual(alice.leaves(), ['s-ghost']);
    assert.deepEqual(bob.leaves(), ['s-ghost']);
    // A late joiner is not shown the ghost either (the bus's list filters expired entries).
    const carol = new TestMember('s-c', 'carol');
    await router.join(carol, DOC);
    await settle();
    const list = carol.received[0];
    assert.ok(list?.t === 'presence' && 'users' in list);
    assert.deepEqual(list.users.map((u) => u.sessionId).sort(), ['s-a', 's-b']);
    // Leaving is seen at once.
    await router.leave(bob, DOC);
    await settle();
    assert.deepEqual(alice.leaves(), ['s-ghost', 's-b']);
    assert.equal(router.localCount(DOC), 2);
    await router.leaveAll(alice);
    await router.leaveAll(carol);
    assert.equal(router.localCount(DOC), 0);
    assert.deepEqual(await bus.list(DOC), []);
  });

  it('a listed entry expires from when it was sent, so a late joiner never keeps a ghost for longer than the TTL', async () => {
    const { router, documents, clock, hub } = setup({ ttlMs: 3000 });
    documents.get(DOC).text = 'abc';
    hub.announce(
      DOC,
      {
        clientId: 's-old',
        userId: 'old',
        data: { name: 'Old', color: '#000000', version: 0, sentAt: clock.now(), ttlMs: 3000 },
      },
      3000,
    );
    await clock.advance(2000);
    const alice = new TestMember('s-a', 'alice');
    await router.join(alice, DOC);
    await settle();
    const list = alice.received[0];
    assert.ok(list?.t === 'presence' && 'users' in list);
    assert.deepEqual(
      list.users.map((u) => u.sessionId),
      ['s-old'],
    );
    await clock.advance(1000);
    assert.deepEqual(alice.leaves(), ['s-old']);
  });

  it('batches a turn of events per document: per sender only its newest state or its leave, in the order of the latest events, each encoded once', async () => {
    const { router, documents, hub, clock } = setup();
    documents.get(DOC).text = 'x'.repeat(100);
    const bob = new EncodedMember('s-b', 'bob');
    const plain = new TestMember('s-p', 'pat');
    await router.join(bob, DOC);
    await router.join(plain, DOC);
    await settle();
    bob.frames.length = 0;
    bob.writes = 0;
    plain.received.length = 0;
    // Another instance's sessions, all in one turn: carol moves three times, dave moves, carol leaves and comes
    // back, erin moves then leaves.
    const state = (clientId: string, anchor: number): PresenceState => ({
      clientId,
      userId: clientId.slice(2),
      data: {
        name: clientId,
        color: '#000000',
        version: 0,
        sentAt: clock.now(),
        ttlMs: 3000,
        cursor: { anchor, head: anchor },
      },
    });
    hub.announce(DOC, state('s-erin', 9), 3000);
    hub.announce(DOC, state('s-carol', 1), 3000);
    hub.announce(DOC, state('s-carol', 2), 3000);
    hub.announce(DOC, state('s-dave', 7), 3000);
    hub.announce(DOC, state('s-carol', 3), 3000);
    hub.leave(DOC, 's-erin');
    await settle();
    const expected = [
      {
        t: 'presence',
        docId: DOC,
        update: {
          sessionId: 's-dave',
          userId: 'dave',
          name: 's-dave',
          color: '#000000',
          cursor: { anchor: 7, head: 7 },
          version: 0,
        },
      },
      {
        t: 'presence',
        docId: DOC,
        update: {
          sessionId: 's-carol',
          userId: 'carol',
          name: 's-carol',
          color: '#000000',
          cursor: { anchor: 3, head: 3 },
          version: 0,
        },
      },
      { t: 'presence-leave', docId: DOC, sessionId: 's-erin' },
    ];
    assert.equal(bob.writes, 1, 'one write for the whole turn');
    assert.deepEqual(
      bob.frames.map((f) => JSON.parse(f) as unknown),
      expected,
    );
    assert.deepEqual(plain.received, expected, 'a member without deliverEncoded gets the same messages one by one');
    // The same encoded frame goes to every recipient (encoded once, not per recipient).
    const carl = new EncodedMember('s-carl', 'carl');
    await router.join(carl, DOC);
    await settle();
    carl.frames.length = 0;
    bob.frames.length = 0;
    hub.announce(DOC, state('s-dave', 8), 3000);
    await settle();
    assert.equal(carl.frames.length, 1);
    assert.equal(carl.frames[0], bob.frames[0]);
    // A leave then a return in one turn: the return wins (no ghost, no lost join).
    hub.leave(DOC, 's-dave');
    hub.announce(DOC, state('s-dave', 5), 3000);
    await settle();
    assert.deepEqual(plain.lastUpdateOf('s-dave')?.cursor, { anchor: 5, head: 5 });
    assert.deepEqual(plain.leaves(), ['s-erin']);
  });

  it("keeps each sender's order across turns: a later turn never delivers an older state", async () => {
    const { router, documents, hub, clock } = setup();
    documents.get(DOC).text = 'x'.repeat(100);
    const bob = new TestMember('s-b', 'bob');
    await router.join(bob, DOC);
    await settle();
    for (let i = 0; i < 30; i++) {
      hub.announce(
        DOC,
        {
          clientId: 's-c',
          userId: 'carol',
          data: {
            name: 'Carol',
            color: '#000000',
            version: 0,
            sentAt: clock.now(),
            ttlMs: 3000,
            cursor: { anchor: i, head: i },
          },
        },
        3000,
      );
      if (i % 7 === 0) await settle(); // some turns with one event, some with several
    }
    await settle();
    const anchors = bob.updates().map((u) => u.cursor!.anchor);
    assert.deepEqual(
      anchors,
      [...anchors].sort((a, b) => a - b),
      `in order: ${anchors.join(',')}`,
    );
    assert.equal(anchors.at(-1), 29, 'the newest arrives');
    assert.ok(anchors.length < 30, 'events of one turn coalesce');
  });

  it('announces the updates of one turn together, each session once in its newest state', async () => {
    const { router, documents, bus } = setup({ updatesPerSecond: 1000 });
    documents.get(DOC).text = 'x'.repeat(100);
    const members = ['a', 'b', 'c'].map((n) => new TestMember(`s-${n}`, n));
    for (const m of members) await router.join(m, DOC);
    await settle();
    const before = bus.announced.length;
    for (const m of members) await router.update(m, msg(0, 1));
    assert.equal(bus.announced.length, before, 'nothing goes out before the end of the turn');
    await settle();
    assert.deepEqual(
      bus.announced.slice(before).map((s) => s.clientId),
      ['s-a', 's-b', 's-c'],
    );
  });

  it("delivers to this instance's sessions without waiting for the bus, once, and even while the bus is down", async () => {
    const { documents, hub, clock } = setup();
    documents.get(DOC).text = 'x'.repeat(100);
    let down = false;
    const inner = new InProcessPresenceBus({ hub });
    const echoes: string[] = [];
    const bus: PresenceBus = Object.assign(Object.create(inner) as PresenceBus, {
      announce: async (docId: string, state: PresenceState, ttl: number) => {
        if (down) throw new Error('redis is down');
        return inner.announce(docId, state, ttl);
      },
      subscribe: (docId: string, listener: (e: PresenceEvent) => void) =>
        inner.subscribe(docId, (e) => {
          if (e.kind === 'update') echoes.push(e.state.clientId);
          listener(e);
        }),
    });
    const router = new PresenceRouter({ bus, documents, clock, ttlMs: 3000, updatesPerSecond: 1000 });
    const { alice, bob } = await aliceAndBob(router);
    bob.received.length = 0;
    await router.update(alice, msg(0, 4));
    await settle();
    assert.ok(echoes.includes('s-a'), 'the bus did carry it (for other instances)');
    assert.deepEqual(
      bob.updates().map((u) => u.cursor),
      [{ anchor: 4, head: 4 }],
      'exactly once: the echo from the bus is not delivered again',
    );
    down = true;
    await router.update(alice, msg(0, 6));
    await clock.advance(1);
    assert.deepEqual(bob.lastUpdateOf('s-a')?.cursor, { anchor: 6, head: 6 }, 'local presence survives a bus outage');
    await router.leave(alice, DOC);
    await settle();
    assert.deepEqual(bob.leaves(), ['s-a']);
    await router.close();
  });

  it('two routers on one bus (two instances) see each other; closing one makes its sessions leave', async () => {
    const { router, documents, clock, hub } = setup();
    documents.get(DOC).text = 'shared text';
    const other = new PresenceRouter({ bus: new InProcessPresenceBus({ hub }), documents, clock, ttlMs: 3000 });
    const alice = new TestMember('s-a', 'alice');
    const bob = new TestMember('s-b', 'bob');
    await router.join(alice, DOC);
    await other.join(bob, DOC);
    await other.update(bob, msg(0, 6, 11));
    await settle();
    assert.deepEqual(alice.lastUpdateOf('s-b')?.cursor, { anchor: 6, head: 11 });
    await other.close();
    await settle();
    assert.deepEqual(alice.leaves(), ['s-b']);
    await router.close();
  });

  it('reports each update sent with its wait, the updates the throttle held or replaced, and the members', async () => {
    const sent: number[] = [];
    const throttled: string[] = [];
    const { router, documents, clock } = setup({ updatesPerSecond: 10 });
    const observed = new PresenceRouter({
      bus: new InProcessPresenceBus({ hub: new InProcessPresenceHub({ now: () => clock.now() }) }),
      documents,
      clock,
      ttlMs: 3000,
      updatesPerSecond: 10,
      observer: { updateSent: (ms) => sent.push(ms), throttled: (outcome) => throttled.push(outcome) },
    });
    await router.close();
    documents.get(DOC).text = 'x'.repeat(100);
    const { alice } = await aliceAndBob(observed);
    assert.deepEqual(observed.memberCounts(), { local: 2, remote: 0 });
    for (let i = 1; i <= 20; i++) await observed.update(alice, msg(0, i));
    await settle();
    assert.deepEqual(sent, [0, 0], 'the burst of two goes at once');
    assert.deepEqual(
      throttled,
      ['delayed', ...Array<string>(17).fill('replaced')],
      'the third waits for its slot; each later one replaces the waiting one',
    );
    await clock.advance(100);
    assert.deepEqual(sent, [0, 0, 100], 'the newest went out at the next slot, 100 ms after it arrived');
    await observed.close();
    assert.deepEqual(observed.memberCounts(), { local: 0, remote: 0 });
  });

  it('reports the age of every update that arrives from another instance (the presence latency metric)', async () => {
    const { documents, clock, hub } = setup();
    documents.get(DOC).text = 'shared text';
    const lags: number[] = [];
    const here = new PresenceRouter({
      bus: new InProcessPresenceBus({ hub }),
      documents,
      clock,
      ttlMs: 3000,
      observer: { remoteDelivery: (ms) => lags.push(ms) },
    });
    const there = new PresenceRouter({ bus: new InProcessPresenceBus({ hub }), documents, clock, ttlMs: 3000 });
    const alice = new TestMember('s-a', 'alice');
    const carol = new TestMember('s-c', 'carol');
    const bob = new TestMember('s-b', 'bob');
    await here.join(alice, DOC);
    await here.join(carol, DOC);
    await there.join(bob, DOC);
    await settle();
    lags.length = 0; // the joins' announcements
    await there.update(bob, msg(0, 3));
    await settle();
    assert.deepEqual(lags, [0], "one update from the other instance, received at its sender's clock time");
    await here.update(alice, msg(0, 1));
    await settle();
    assert.deepEqual(lags, [0], 'our own sessions are not remote deliveries');
    await here.close();
    await there.close();
  });
});
