/**
 * The load bench's presence measure: a receiver's n-th update from a session answers that session's n-th send
 * since the receiver started listening; a reconnected receiver starts matching afresh.
 */
import assert from 'node:assert/strict';
import { Recorder } from '../src/recorder.js';

describe('Recorder: presence latency', () => {
  it('matches updates to sends in order, per receiver, per sender session and document', () => {
    const r = new Recorder();
    r.presenceSent('doc', 's1');
    r.presenceSent('doc', 's1');
    r.presenceSent('other', 's1');
    r.presenceReceived('bob', 'doc', 's1'); // first seen: answers the latest send (bob may have joined late)
    assert.equal(r.presence.count, 1);
    r.presenceSent('doc', 's1');
    r.presenceReceived('bob', 'doc', 's1');
    r.presenceReceived('carol', 'doc', 's1');
    r.presenceReceived('bob', 'doc', 's1'); // no such send yet: not a sample
    assert.equal(r.presence.count, 3);
  });

  it('after a reconnect, a receiver matches the latest send again instead of lagging behind', () => {
    const r = new Recorder();
    r.presenceSent('doc', 's1');
    r.presenceReceived('bob', 'doc', 's1');
    r.presenceSent('doc', 's1'); // bob was offline for these two
    r.presenceSent('doc', 's1');
    r.presenceReset('bob');
    r.presenceSent('doc', 's1');
    r.presenceReceived('bob', 'doc', 's1');
    assert.equal(r.presence.count, 2);
    r.presenceReceived('bob', 'doc', 's1');
    assert.equal(r.presence.count, 2, 'nothing newer was sent');
  });

  it('tagged: a receipt is timed from its own send, so updates replaced on the way do not skew the rest', async () => {
    const r = new Recorder();
    const sent = (tag: string) => r.presenceSent('doc', 's1', tag);
    sent('#000001');
    sent('#000002'); // replaced by #000003 on the server: never delivered
    sent('#000003');
    r.presenceReceived('bob', 'doc', 's1', '#000001');
    r.presenceReceived('bob', 'doc', 's1', '#000003');
    await new Promise((resolve) => setTimeout(resolve, 100));
    sent('#000004');
    r.presenceReceived('bob', 'doc', 's1', '#000004');
    assert.equal(r.presence.count, 3);
    // Matched in order, the receipt of #000004 would be timed from #000003's send, 100 ms earlier (and every
    // later one from an ever older send); tagged, each is timed from its own.
    assert.ok(r.presence.percentile(100)! < 50, `${r.presence.percentile(100)} ms`);
    r.presenceReceived('bob', 'doc', 's1', '#000004'); // a heartbeat repeating the latest state
    assert.equal(r.presence.count, 3, 'a repeat is not a new sample');
    r.presenceReceived('carol', 'doc', 's1', '#000004');
    assert.equal(r.presence.count, 4, 'each receiver counts once');
  });
});
