/** The phases of a document's sync, step by step: what each event leads to, and what an open asks for. */
import assert from 'node:assert/strict';
import type { Phase } from '../src/sync-phase.js';
import {
  answered,
  CLOSED,
  disconnected,
  INITIAL_PHASE,
  isOnline,
  opening,
  openRequested,
  wantsFresh,
} from '../src/sync-phase.js';

const offline = (fresh: boolean): Phase => ({ kind: 'offline', fresh });
const live: Phase = { kind: 'live' };

describe('sync phases', () => {
  it('an open wanted while offline waits for the connection, and a fresh one is not forgotten', () => {
    assert.deepEqual(openRequested(INITIAL_PHASE, false), { phase: offline(false), send: false });
    assert.deepEqual(openRequested(offline(false), true), { phase: offline(true), send: false });
    assert.deepEqual(openRequested(offline(true), false), { phase: offline(true), send: false });
  });

  it('an open wanted while connected is sent now, for what was asked', () => {
    assert.deepEqual(openRequested(live, false), { phase: opening(false), send: true });
    assert.deepEqual(openRequested(opening(false), true), { phase: opening(true), send: true });
  });

  it('nothing opens once closed, and closed stays closed', () => {
    assert.deepEqual(openRequested(CLOSED, true), { phase: CLOSED, send: false });
    assert.equal(disconnected(CLOSED), CLOSED);
    assert.equal(isOnline(CLOSED), false);
  });

  it('losing the connection keeps a fresh open owed; an answered open leaves nothing owed', () => {
    assert.deepEqual(disconnected(opening(true)), offline(true));
    assert.deepEqual(disconnected(opening(false)), offline(false));
    assert.deepEqual(disconnected(live), offline(false));
    assert.deepEqual(answered(opening(true)), live);
    assert.deepEqual(answered(offline(true)), offline(false));
  });

  it('only offline and opening phases can want the whole text', () => {
    assert.deepEqual([offline(true), opening(true), live, CLOSED].map(wantsFresh), [true, true, false, false]);
    assert.deepEqual([offline(true), opening(true), live, CLOSED].map(isOnline), [false, true, true, false]);
  });
});
