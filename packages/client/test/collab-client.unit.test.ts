/**
 * CollabClient against the simulated server over the fake network, on virtual time: the connection lifecycle
 * (auth, welcome, several documents, backoff with jitter, re-auth with a fresh token, re-open and catch-up), the
 * keep-alive, refused opens, large pastes over the wire, and UTF-16 positions in the public API.
 */
import assert from 'node:assert/strict';
import type { ClientDocument, ConnectionState, WireLimits } from '../src/index.js';
import { backoffDelay, CollabClient } from '../src/index.js';
import { DEFAULT_LIMITS, FakeNetwork, ManualScheduler, Rng, SimServer } from '../src/testing/index.js';
import { serverHash } from './support/server-hash.js';

const RECONNECT = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 1 };

function setup(options: { token?: string | (() => Promise<string>); limits?: Partial<WireLimits> } = {}) {
  const rng = new Rng(42);
  const scheduler = new ManualScheduler();
  const server = new SimServer(rng, () => scheduler.now(), {
    heartbeatMs: 1000,
    stateHash: serverHash,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  });
  const net = new FakeNetwork(scheduler, rng, server, { minDelayMs: 5, maxDelayMs: 5 });
  const states: ConnectionState[] = [];
  const delays: number[] = [];
  const makeClient = (clientId: string): CollabClient => {
    const client = new CollabClient({
      url: 'ws://sim',
      token: options.token ?? 'good',
      WebSocket: net.WebSocket,
      clientId,
      scheduler,
      random: () => 0.5,
      reconnect: RECONNECT,
    });
    return client;
  };
  const client = makeClient('c1');
  client.events.on('state', (e) => {
    states.push(e.state);
    if (e.delayMs !== undefined) delays.push(e.delayMs);
  });
  /** Advance virtual time in small steps, letting promises (token fetch, openDocument) settle in between. */
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 5) {
      scheduler.advance(5);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const sent = (t: string): Array<Record<string, unknown>> =>
    net.framesToServer.map((f) => JSON.parse(f) as Record<string, unknown>).filter((m) => m['t'] === t);
  return { scheduler, server, net, client, states, delays, run, sent, makeClient };
}

async function open(env: ReturnType<typeof setup>, docId: string, client = env.client): Promise<ClientDocument> {
  const pending = client.openDocument(docId);
  await env.run(50);
  return pending;
}

describe('CollabClient', () => {
  it('connects, authenticates, and opens several documents on one connection', async () => {
    const env = setup();
    const [a, b] = await Promise.all([env.client.openDocument('a'), env.client.openDocument('b'), env.run(50)]);
    assert.deepEqual(env.states, ['connecting', 'online']);
    assert.deepEqual(env.sent('auth'), [{ t: 'auth', token: 'good', protocol: 1 }]);
    assert.deepEqual(
      env.sent('open').map((m) => m['docId']),
      ['a', 'b'],
    );
    assert.equal(env.net.attempts, 1);
    a.insert(0, 'hello');
    b.insert(0, 'world');
    await env.run(50);
    assert.equal(env.server.text('a'), 'hello');
    assert.equal(env.server.text('b'), 'world');
    assert.equal(a.version, 1);
    assert.equal(env.client.pendingCount, 0);
  });

  it('delivers remote edits as UTF-16 changes', async () => {
    const env = setup();
    const mine = await open(env, 'd');
    const other = env.makeClient('c2');
    const theirs = await open(env, 'd', other);
    const changes: unknown[] = [];
    theirs.on('change', (e) => changes.push(e.changes));
    mine.insert(0, '😀b');
    await env.run(30);
    mine.insert(2, 'X'); // UTF-16 offset 2: after the emoji
    await env.run(30);
    assert.equal(theirs.text, '😀Xb');
    assert.deepEqual(changes, [[{ from: 0, to: 0, insert: '😀b' }], [{ from: 2, to: 2, insert: 'X' }]]);
  });

  it('reconnects with exponential backoff and full jitter, re-authenticates with a fresh token, re-opens and catches up', async () => {
    let tokens = 0;
    const env = setup({ token: async () => `good${++tokens === 1 ? '' : ''}` });
    const doc = await open(env, 'd');
    doc.insert(0, 'a');
    await env.run(30);
    env.net.options.refuse = 1; // the next attempts fail
    env.net.dropRandom();
    doc.insert(1, 'b'); // offline edit: applies at once
    assert.equal(doc.text, 'ab');
    assert.equal(env.client.pendingCount, 1);
    await env.run(700);
    env.server.commitExternal('d', ['>']); // someone else edits meanwhile
    // random() is 0.5, so each delay is half its cap: 100·2^n / 2, capped at 1000 / 2.
    assert.deepEqual(
      env.delays.slice(0, 3),
      [0, 1, 2].map((n) => backoffDelay(RECONNECT, n, () => 0.5)),
    );
    assert.deepEqual(env.delays.slice(0, 3), [50, 100, 200]);
    env.net.options.refuse = 0;
    await env.run(1500);
    assert.equal(env.client.state, 'online');
    assert.ok(tokens >= 2, 'a fresh token for the new connection');
    assert.deepEqual(env.sent('open').at(-1), { t: 'open', docId: 'd', version: 1 });
    assert.equal(doc.text, '>ab');
    assert.equal(env.server.text('d'), '>ab');
    assert.equal(env.client.pendingCount, 0);
    assert.deepEqual(
      env.sent('submit').map((m) => m['seq']),
      [1, 2],
      'seqs continue across the reconnect',
    );
    assert.ok(env.states.includes('reconnecting'));
  });

  it('re-sends an op whose ack was lost with the same seq; the server answers with the original ack', async () => {
    const env = setup();
    const doc = await open(env, 'd');
    doc.insert(0, 'once');
    env.scheduler.advance(7); // the submit reaches the server (5 ms) and commits; the ack is still on the wire
    env.net.dropRandom();
    await env.run(1000);
    assert.equal(env.server.text('d'), 'once', 'committed once');
    assert.equal(doc.text, 'once');
    assert.equal(doc.version, 1);
    assert.equal(doc.pendingCount, 0);
    const submits = env.sent('submit');
    assert.ok(submits.every((m) => m['seq'] === 1));
  });

  it('pings a silent server and drops the connection after two silent heartbeats', async () => {
    const env = setup();
    await open(env, 'd');
    env.server.hung = true;
    const before = env.sent('ping').length;
    await env.run(1100);
    assert.ok(env.sent('ping').length > before, 'pinged after a silent heartbeat');
    assert.equal(env.client.state, 'online', 'not dropped after one silent heartbeat');
    await env.run(1500);
    assert.ok(env.states.includes('offline'), 'dropped after two silent heartbeats');
    // The reconnect reaches the same hung server: no welcome, so the handshake times out (10 s) and it tries again.
    assert.equal(env.client.state, 'reconnecting');
    env.server.hung = false;
    await env.run(9000);
    assert.equal(env.client.state, 'reconnecting');
    await env.run(2000);
    assert.equal(env.client.state, 'online');
  });

  it('gives up a connection whose session is stuck behind an unanswered open, though other documents’ ops still arrive', async () => {
    // The chaos run's hung reload: the server never answered one open, and re-sending it on the same connection
    // queued it behind the stuck one; the connection never went quiet (the other documents were live), so the
    // keep-alive never dropped it. After three open timeouts the client now reconnects, and the open is answered.
    const env = setup();
    const client = new CollabClient({
      url: 'ws://sim',
      token: 'good',
      WebSocket: env.net.WebSocket,
      clientId: 'c2',
      scheduler: env.scheduler,
      random: () => 0.5,
      reconnect: RECONNECT,
      document: { openTimeoutMs: 2000 },
    });
    const states: ConnectionState[] = [];
    client.events.on('state', (e) => states.push(e.state));
    const live = await open(env, 'live', client);
    env.server.stallNextOpen.add('stuck');
    let opened: ClientDocument | undefined;
    void client.openDocument('stuck').then((doc) => (opened = doc));
    for (let i = 0; i < 10; i++) {
      env.server.commitExternal('live', ['x']); // the connection is never silent
      await env.run(500);
    }
    assert.equal(live.version, 10, 'the live document kept receiving ops meanwhile');
    assert.equal(opened, undefined, 'not answered on the stuck connection (two re-sends later)');
    assert.ok(!states.includes('offline'), 'not dropped before the third timeout');
    await env.run(1500);
    assert.ok(states.includes('offline'), 'dropped after three open timeouts');
    await env.run(500);
    assert.equal(client.state, 'online');
    assert.notEqual(opened, undefined, 'opened on the new connection');
    assert.equal(opened!.version, 0);
  });

  it('rejects openDocument with the server’s code when the open is refused', async () => {
    const env = setup();
    env.server.forbidden.add('secret');
    const opening = env.client.openDocument('secret');
    const outcome = opening.then(
      () => 'opened',
      (err: { code: string }) => err.code,
    );
    await env.run(50);
    assert.equal(await outcome, 'ERR_FORBIDDEN');
  });

  it('gets a new token and reconnects when the token is refused', async () => {
    const tokens = ['bad', 'good'];
    const env = setup({ token: async () => tokens.shift() ?? 'good' });
    const errors: string[] = [];
    env.client.events.on('error', (e) => errors.push(e.code));
    const doc = await Promise.all([env.client.openDocument('d'), env.run(500)]).then(([d]) => d);
    assert.deepEqual(errors, ['ERR_TOKEN_INVALID']);
    assert.equal(env.client.state, 'online');
    assert.equal(doc.version, 0);
  });

  it('splits a paste longer than maxOpInsertLength into ops sent in order, with progress', async () => {
    const env = setup({ limits: { maxOpInsertLength: 5 } });
    const doc = await open(env, 'd');
    const progress: Array<{ sent: number; total: number }> = [];
    doc.on('progress', (p) => progress.push(p));
    const paste = 'abcd😀efgh😀ij';
    doc.insert(0, paste);
    assert.equal(doc.text, paste, 'applied locally at once');
    await env.run(200);
    assert.equal(env.server.text('d'), paste);
    const inserts = env.sent('submit').map((m) => (m['op'] as unknown[]).find((c) => typeof c === 'string'));
    assert.deepEqual(inserts, ['abcd😀', 'efgh😀', 'ij']);
    assert.deepEqual(progress, [
      { sent: 5, total: 12 },
      { sent: 10, total: 12 },
      { sent: 12, total: 12 },
    ]);
  });

  it('takes positions in UTF-16 units and widens a delete that cuts a surrogate pair', async () => {
    const env = setup();
    const doc = await open(env, 'd');
    doc.insert(0, 'a😀b');
    doc.insert(3, '|'); // after the emoji (a=1 unit, 😀=2 units)
    assert.equal(doc.text, 'a😀|b');
    doc.delete(2, 1); // the second half of the emoji: the whole emoji goes
    assert.equal(doc.text, 'a|b');
    assert.throws(() => doc.insert(99, 'x'), { code: 'ERR_RANGE' });
    await env.run(100);
    assert.equal(env.server.text('d'), 'a|b');
  });

  it('close() stops reconnecting and closes documents', async () => {
    const env = setup();
    const doc = await open(env, 'd');
    env.client.close();
    assert.equal(env.client.state, 'closed');
    assert.throws(() => doc.insert(0, 'x'), { code: 'ERR_CLOSED' });
    const attempts = env.net.attempts;
    await env.run(3000);
    assert.equal(env.net.attempts, attempts);
  });
});
