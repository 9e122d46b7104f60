/** The in-process presence bus with an injected clock: TTLs to the millisecond, no timers, no sleeps. */
import assert from 'node:assert/strict';
import { isCollabError, type PresenceEvent } from '@collab/core';
import { InProcessPresenceBus, InProcessPresenceHub } from '../src/index.js';

describe('in-process presence bus', function () {
  let now = 1_000_000;
  const hub = () => new InProcessPresenceHub({ now: () => now });
  const state = (clientId: string) => ({ clientId, userId: `u-${clientId}`, data: { cursor: 1 } });

  it('shows an entry until exactly its TTL has passed on the injected clock', async () => {
    const bus = new InProcessPresenceBus({ hub: hub() });
    await bus.announce('doc', state('a'), 1000);
    now += 999;
    assert.deepEqual(
      (await bus.list('doc')).map((s) => s.clientId),
      ['a'],
    );
    now += 1;
    assert.deepEqual(await bus.list('doc'), []);
  });

  it('hands out copies: a listener or a caller mutating what it got changes nothing stored', async () => {
    const bus = new InProcessPresenceBus({ hub: hub() });
    const got = new Promise<PresenceEvent>((resolve) => void bus.subscribe('doc', resolve));
    const announced = state('a');
    await bus.announce('doc', announced, 60_000);
    announced.data.cursor = 99;
    const event = await got;
    assert.ok(event.kind === 'update');
    event.state.data.cursor = 42;
    (await bus.list('doc'))[0]!.data.cursor = 7;
    assert.deepEqual((await bus.list('doc'))[0]!.data, { cursor: 1 });
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const bus = new InProcessPresenceBus({ hub: hub() });
    await bus.subscribe('doc', () => {
      throw new Error('a broken listener');
    });
    const got = new Promise<PresenceEvent>((resolve) => void bus.subscribe('doc', resolve));
    await bus.announce('doc', state('a'), 60_000);
    assert.equal((await got).kind, 'update');
  });

  it('refuses TTLs that are not positive or look like a unit mistake, and calls after close', async () => {
    const bus = new InProcessPresenceBus({ hub: hub() });
    for (const ttl of [0, -1, Number.NaN, 25 * 3600 * 1000]) {
      await assert.rejects(bus.announce('doc', state('a'), ttl), (err) => isCollabError(err, 'ERR_INVALID_ARGUMENT'));
    }
    await bus.close();
    await assert.rejects(bus.list('doc'), (err) => isCollabError(err, 'ERR_CLOSED'));
  });
});
