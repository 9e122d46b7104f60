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
});
