/** The router's parts on their own: the update throttle and the remote roster with its TTL, on a manual clock. */
import assert from 'node:assert/strict';
import type { PresenceState } from '@collab/core';
import { RemoteRoster } from '../src/remote-roster.js';
import { UpdateThrottle } from '../src/throttle.js';
import { ManualClock } from './support/manual-clock.js';

describe('UpdateThrottle', () => {
  it('sends a burst of two at once, then holds the newest update for its slot and always sends the last', async () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    const throttle = new UpdateThrottle<number>(10, clock, (n) => sent.push(n));
    assert.equal(throttle.offer(1), 'sent');
    assert.equal(throttle.offer(2), 'sent');
    assert.equal(throttle.offer(3), 'delayed');
    assert.equal(throttle.offer(4), 'replaced');
    assert.deepEqual(sent, [1, 2]);
    await clock.advance(99);
    assert.deepEqual(sent, [1, 2]);
    await clock.advance(1);
    assert.deepEqual(sent, [1, 2, 4], 'the newest went out in the slot; the one it replaced never did');
  });

  it('sends nothing waiting once cancelled', async () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    const throttle = new UpdateThrottle<number>(10, clock, (n) => sent.push(n));
    throttle.offer(1);
    throttle.offer(2);
    throttle.offer(3);
    throttle.cancel();
    await clock.advance(1000);
    assert.deepEqual(sent, [1, 2]);
  });
});

describe('RemoteRoster', () => {
  const state = (clientId: string, sentAt: number, extra: Record<string, unknown> = {}): PresenceState => ({
    clientId,
    userId: `user-${clientId}`,
    data: { name: clientId, color: '#123456', version: 3, sentAt, ttlMs: 1000, ...extra },
  });

  it('keeps an entry until its TTL from when it was sent runs out, then reports it expired', async () => {
    const clock = new ManualClock();
    const expired: string[] = [];
    const roster = new RemoteRoster(clock, (id) => expired.push(id));
    const user = roster.remember(state('a', clock.now() - 400));
    assert.equal(typeof user === 'object' && user.sessionId, 'a');
    await clock.advance(599);
    assert.deepEqual(expired, []);
    await clock.advance(1);
    assert.deepEqual(expired, ['a']);
    assert.deepEqual(roster.users(), []);
  });

  it('refreshes an entry, ignores a listing older than the event held, and tells malformed data apart', async () => {
    const clock = new ManualClock();
    const expired: string[] = [];
    const roster = new RemoteRoster(clock, (id) => expired.push(id));
    roster.remember(state('a', clock.now()));
    assert.equal(roster.remember(state('a', clock.now() - 10)), undefined);
    await clock.advance(900);
    roster.remember(state('a', clock.now()));
    await clock.advance(900);
    assert.deepEqual(expired, [], 'the refresh moved the expiry');
    assert.equal(roster.remember(state('b', clock.now(), { version: -1 })), 'malformed');
    assert.equal(roster.forget('a'), true);
    assert.equal(roster.forget('a'), false);
    await clock.advance(5000);
    assert.deepEqual(expired, [], 'a forgotten entry does not expire later');
  });
});
