/**
 * The SDK in Node with the `ws` package against a server that accepts the TCP connection and never answers the
 * WebSocket upgrade (a process frozen by SIGSTOP: the kernel still accepts). The handshake times out and the SDK
 * closes the socket while it is still connecting; `ws` then emits 'error', and an EventEmitter's 'error' with no
 * listener throws: it took down the chaos run's user process (npm run chaos, seed 20261208). The SDK now keeps a
 * no-op error handler on the sockets it gives up, and simply tries again.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { ConnectionState } from '../src/index.js';
import { CollabClient } from '../src/index.js';

describe('CollabClient on Node with ws: a server that never answers the upgrade', () => {
  let server: Server;
  const held: Socket[] = [];
  let port: number;

  before(async () => {
    server = createServer((socket) => held.push(socket)); // accepts, reads nothing, answers nothing
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up the connecting socket when the handshake times out, without an uncaught error, and tries again', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Mocha's own handler would fail the test on the first uncaught exception; ours records it instead.
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    const states: ConnectionState[] = [];
    const client = new CollabClient({
      url: `ws://127.0.0.1:${port}/v1/ws`,
      token: 'any',
      WebSocket,
      handshakeTimeoutMs: 200,
      reconnect: { initialMs: 50, maxMs: 100 },
    });
    client.events.on('state', (e) => states.push(e.state));
    try {
      const deadline = Date.now() + 10_000;
      while (held.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100)); // the last give-up's 'error' event, if any
      assert.ok(held.length >= 3, `connected again after each timeout (${held.length} connections)`);
      assert.deepEqual(uncaught, [], 'no uncaught error');
      assert.ok(states.includes('offline'));
    } finally {
      client.close();
      process.removeListener('uncaughtException', onUncaught);
      for (const handler of mochaHandlers) process.on('uncaughtException', handler);
    }
  });
});
