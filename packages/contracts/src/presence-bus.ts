/**
 * The PresenceBus contract: what every adapter (Redis, in-process) must do, as mocha tests. The factory is called
 * several times per test; every bus it returns during one run must share one backend (they stand for several
 * service instances). The suite closes every bus it gets. Docs and clients are random per test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { PresenceBus, PresenceEvent, PresenceState } from '@collab/core';

export type PresenceBusFactory = () => PresenceBus | Promise<PresenceBus>;

/** Bounds every wait; generous because a CI machine can be slow, and a passing test never waits it out. */
const DEADLINE_MS = 5_000;
const LONG_TTL_MS = 60_000;

/** Records a listener's events and lets a test await one that matches. */
export class EventRecorder {
  readonly events: PresenceEvent[] = [];
  private waiters: { match: (e: PresenceEvent) => boolean; resolve: (e: PresenceEvent) => void }[] = [];

  readonly listener = (event: PresenceEvent): void => {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
  };

  next(match: (e: PresenceEvent) => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<PresenceEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}

/** Poll `check` until it returns true or the deadline passes (for TTL expiry, which emits no event). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms`);
    await delay(25);
  }
}

const isUpdateOf = (docId: string, clientId: string, data?: unknown) => (e: PresenceEvent) =>
  e.kind === 'update' &&
  e.docId === docId &&
  e.state.clientId === clientId &&
  (data === undefined || JSON.stringify(e.state.data) === JSON.stringify(data));
const isLeaveOf = (docId: string, clientId: string) => (e: PresenceEvent) =>
  e.kind === 'leave' && e.docId === docId && e.clientId === clientId;

export function presenceBusContract(name: string, factory: PresenceBusFactory): void {
  describe(`PresenceBus contract: ${name}`, function () {
    const buses: PresenceBus[] = [];
    const bus = async (): Promise<PresenceBus> => {
      const b = await factory();
      buses.push(b);
      return b;
    };
    const docId = (): string => `doc-${randomUUID()}`;
    const state = (clientId: string, data: Record<string, unknown> = {}): PresenceState => ({
      clientId,
      userId: `user-of-${clientId}`,
      data,
    });
    const clientIds = async (b: PresenceBus, doc: string): Promise<string[]> =>
      (await b.list(doc)).map((s) => s.clientId).sort();

    afterEach(async function () {
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    it('lists what was announced, with its data, on every instance', async function () {
      const [a, b] = [await bus(), await bus()];
      const doc = docId();
      const alice = state('c-alice', { name: 'Alice', cursor: { version: 3, index: 12 }, colour: '#f00' });
      await a.announce(doc, alice, LONG_TTL_MS);
      await a.announce(doc, state('c-bob'), LONG_TTL_MS);
      assert.deepEqual(await clientIds(b, doc), ['c-alice', 'c-bob']);
      assert.deepEqual(
        (await b.list(doc)).find((s) => s.clientId === 'c-alice'),
        alice,
      );
    });

    it('an empty or unknown document lists nobody', async function () {
      assert.deepEqual(await (await bus()).list(docId()), []);
    });

    it('a re-announce replaces the state instead of adding a second entry', async function () {
      const a = await bus();
      const doc = docId();
      await a.announce(doc, state('c1', { cursor: 1 }), LONG_TTL_MS);
      await a.announce(doc, state('c1', { cursor: 2 }), LONG_TTL_MS);
      assert.deepEqual(await a.list(doc), [state('c1', { cursor: 2 })]);
    });

    it('delivers update and leave events to subscribers on two instances', async function () {
      const [a, b] = [await bus(), await bus()];
      const doc = docId();
      const [onA, onB] = [new EventRecorder(), new EventRecorder()];
      await a.subscribe(doc, onA.listener);
      await b.subscribe(doc, onB.listener);
      const carol = state('c-carol', { cursor: 5 });
      await a.announce(doc, carol, LONG_TTL_MS);
      for (const rec of [onA, onB]) {
        assert.deepEqual(await rec.next(isUpdateOf(doc, 'c-carol'), 'update'), {
          kind: 'update',
          docId: doc,
          state: carol,
        });
      }
      await b.leave(doc, 'c-carol');
      for (const rec of [onA, onB]) {
        assert.deepEqual(await rec.next(isLeaveOf(doc, 'c-carol'), 'leave'), {
          kind: 'leave',
          docId: doc,
          clientId: 'c-carol',
        });
      }
      assert.deepEqual(await a.list(doc), [], 'leave removes the entry at once');
    });

    it('drops an entry that stops heartbeating after its TTL, keeping one that heartbeats', async function () {
      const a = await bus();
      const doc = docId();
      await a.announce(doc, state('c-gone'), 300);
      await a.announce(doc, state('c-alive'), 300);
      assert.deepEqual(await clientIds(a, doc), ['c-alive', 'c-gone'], 'both present before the TTL');
      await eventually(async () => {
        await a.announce(doc, state('c-alive'), 300); // the heartbeat
        return !(await clientIds(a, doc)).includes('c-gone');
      }, 'the silent client expired');
      assert.deepEqual(await clientIds(a, doc), ['c-alive']);
      await eventually(async () => (await a.list(doc)).length === 0, 'the last client expired');
    });

    it('hides an expired entry from list with no further writes to the document', async function () {
      const [a, b] = [await bus(), await bus()];
      const doc = docId();
      await a.announce(doc, state('c-long'), LONG_TTL_MS);
      await a.announce(doc, state('c-short'), 300);
      // Nothing is announced from here on: the entry must vanish from reads on its own.
      await eventually(async () => (await clientIds(b, doc)).join() === 'c-long', 'the short-lived entry expired');
    });

    it('a re-announce refreshes the TTL', async function () {
      const a = await bus();
      const doc = docId();
      await a.announce(doc, state('c1', { v: 1 }), 300);
      await a.announce(doc, state('c1', { v: 2 }), LONG_TTL_MS);
      await delay(700); // well past the first TTL: nothing to await, the point is that nothing happens
      assert.deepEqual(await a.list(doc), [state('c1', { v: 2 })]);
    });

    it('unsubscribe stops delivery to that listener only, on the same and on another instance', async function () {
      const [a, b] = [await bus(), await bus()];
      const doc = docId();
      const [stopped, kept, otherInstance] = [new EventRecorder(), new EventRecorder(), new EventRecorder()];
      const unsubscribe = await a.subscribe(doc, stopped.listener);
      await a.subscribe(doc, kept.listener);
      const unsubscribeB = await b.subscribe(doc, otherInstance.listener);
      await a.announce(doc, state('c1'), LONG_TTL_MS);
      await stopped.next(isUpdateOf(doc, 'c1'), 'first update');
      await otherInstance.next(isUpdateOf(doc, 'c1'), 'first update on b');
      await unsubscribe();
      await unsubscribeB();
      await a.announce(doc, state('c2'), LONG_TTL_MS);
      // Same message, same instance: once `kept` has it, `stopped` would have it too if still subscribed.
      await kept.next(isUpdateOf(doc, 'c2'), 'second update');
      // Another instance: a later event from the same publisher arrives after this one would have.
      const [witness] = [new EventRecorder()];
      const unsubscribeWitness = await b.subscribe(doc, witness.listener);
      await a.announce(doc, state('c3'), LONG_TTL_MS);
      await witness.next(isUpdateOf(doc, 'c3'), 'third update on b');
      assert.equal(stopped.events.length, 1, 'no event after unsubscribe');
      assert.equal(otherInstance.events.length, 1, 'no event after unsubscribe on b');
      await unsubscribeWitness();
      await unsubscribe(); // idempotent
    });

    it('keeps documents apart: events and lists', async function () {
      const [a, b] = [await bus(), await bus()];
      const [doc1, doc2] = [docId(), docId()];
      const on1 = new EventRecorder();
      await b.subscribe(doc1, on1.listener);
      await a.announce(doc2, state('c-other-doc'), LONG_TTL_MS);
      await a.announce(doc1, state('c-this-doc'), LONG_TTL_MS);
      await on1.next(isUpdateOf(doc1, 'c-this-doc'), 'update of doc1');
      assert.deepEqual(
        on1.events.map((e) => e.docId),
        [doc1],
        'the doc2 event, published first, never arrived',
      );
      assert.deepEqual(await clientIds(b, doc1), ['c-this-doc']);
      assert.deepEqual(await clientIds(b, doc2), ['c-other-doc']);
    });
  });
}
