/**
 * The two WebSocket servers behind one contract (transport/edge-server.ts), on real loopback sockets with a
 * stand-in session: uWebSockets.js where its native binary loads (Node 20), the ws package everywhere. Each is
 * checked the same way — routes and their headers, 404, Host refused before the upgrade, frames both ways,
 * an oversized frame closing the connection, a cap refusing with 1013, the port freed by close(). The whole
 * editing protocol on the ws server: the CLI and browser suites with COLLAB_EDGE_TRANSPORT=ws, or on Node 24
 * (scripts/with-node.sh), where it is the only one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import WebSocket from 'ws';
import type { Session, Transport } from '../src/session/session.js';
import type { EdgeTransport, WsServer } from '../src/transport/edge-server.js';
import { edgeTransport, startWsServer, WS_PATH } from '../src/transport/edge-server.js';

const logger = pino({ level: 'silent' });

/** Echoes every text frame back as a pong carrying it; records the frames it got. */
function echoSession(transport: Transport, received: string[]): Session {
  return {
    id: 'echo',
    receive: async (frame: string | ArrayBuffer) => {
      const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8');
      received.push(text);
      transport.send({ t: 'pong', id: text });
    },
    disconnected: async () => {},
  } as unknown as Session;
}

async function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

describe('the WebSocket edge servers', () => {
  it('uses uWebSockets.js exactly when its binary for this Node.js loads (Node 20 here), else ws', () => {
    assert.equal(edgeTransport(), process.versions.modules === '115' ? 'uws' : 'ws');
  });

  it('with COLLAB_EDGE_TRANSPORT=uws on a Node.js without the binary, refuses to start and says why', async function () {
    if (edgeTransport() === 'uws') this.skip(); // runs under scripts/with-node.sh 22/24
    await assert.rejects(
      startWsServer({ ...baseOptions([]), transport: 'uws' }),
      /COLLAB_EDGE_TRANSPORT=uws: uWebSockets.js has no native binary for Node.js v\d+.*Run on Node 20, or set COLLAB_EDGE_TRANSPORT=auto or ws/,
    );
  });

  const servers: EdgeTransport[] = edgeTransport() === 'uws' ? ['uws', 'ws'] : ['ws'];
  for (const transport of servers) {
    describe(`on ${transport}`, () => {
      let server: WsServer;
      const received: string[] = [];
      before(async () => {
        server = await startWsServer({ ...baseOptions(received), transport });
      });
      after(() => server.close());
      const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

      it('serves its routes with the security headers, exact before wildcard, and 404 otherwise', async () => {
        const exact = await fetch(url('/v1/docs/special'));
        assert.equal(exact.status, 200);
        assert.equal(await exact.text(), 'exact');
        assert.equal(exact.headers.get('x-frame-options'), 'DENY');
        const wild = await fetch(url('/v1/docs/abc?x=1'));
        assert.equal(await wild.text(), 'wildcard /v1/docs/abc x=1');
        const posted = await fetch(url('/v1/echo'), { method: 'POST', body: 'hello' });
        assert.equal(await posted.text(), 'hello');
        const tooBig = await fetch(url('/v1/echo'), { method: 'POST', body: 'x'.repeat(70_000) });
        assert.equal(tooBig.status, 413);
        const missing = await fetch(url('/nowhere'));
        assert.equal(missing.status, 404);
        assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
        const thrown = await fetch(url('/v1/throws'));
        assert.equal(thrown.status, 500);
        assert.match(await thrown.text(), /ERR_INTERNAL/);
      });

      it('refuses a foreign Host before the upgrade (403, no WebSocket)', async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { host: 'evil.example' } });
        const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
        assert.equal(response.statusCode, 403);
        ws.on('error', () => {}); // terminate() before an open reports one
        ws.terminate();
      });

      it('carries frames both ways, and closes on a frame above the hard limit', async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`);
        await once(ws, 'open');
        ws.send('hi');
        const [reply] = (await once(ws, 'message')) as [Buffer];
        assert.deepEqual(JSON.parse(reply.toString()), { t: 'pong', id: 'hi' });
        assert.ok(received.includes('hi'));
        ws.send('x'.repeat(5_000));
        const { code } = await closeOf(ws);
        assert.ok(code === 1009 || code === 1006, `closed with ${code}`);
        assert.ok(!received.includes('x'.repeat(5_000)));
      });

      it('refuses a connection over the per-address cap with 1013 and the reason, after the upgrade', async () => {
        const open = [1, 2].map(() => new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`));
        await Promise.all(open.map((ws) => once(ws, 'open')));
        const third = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`);
        const [message] = (await once(third, 'message')) as [Buffer];
        assert.equal((JSON.parse(message.toString()) as { code: string }).code, 'ERR_TOO_MANY_CONNECTIONS');
        assert.deepEqual(await closeOf(third), { code: 1013, reason: 'ERR_TOO_MANY_CONNECTIONS' });
        for (const ws of open) ws.close();
        await Promise.all(open.map((ws) => once(ws, 'close')));
      });
    });
  }

  it('frees its port on close (both servers)', async () => {
    for (const transport of servers) {
      const first = await startWsServer({ ...baseOptions([]), transport });
      await assert.rejects(startWsServer({ ...baseOptions([]), transport, port: first.port }), /Cannot listen/);
      await first.close();
      const again = await startWsServer({ ...baseOptions([]), transport, port: first.port });
      await again.close();
    }
  });
});

function baseOptions(received: string[]) {
  return {
    host: '127.0.0.1',
    port: 0,
    hardMaxFrameBytes: 4_096,
    idleTimeoutSeconds: 60,
    maxBackpressureBytes: 1 << 20,
    logger,
    connections: { max: 100, maxPerAddress: 2, authTimeoutMs: 60_000 },
    createSession: (transport: Transport) => echoSession(transport, received),
    httpRoutes: [
      {
        method: 'get' as const,
        pattern: '/v1/docs/*',
        handle: (r: { path: string; query: URLSearchParams }) => ({
          status: 200,
          body: `wildcard ${r.path} ${r.query.toString()}`,
        }),
      },
      { method: 'get' as const, pattern: '/v1/docs/special', handle: () => ({ status: 200, body: 'exact' }) },
      {
        method: 'post' as const,
        pattern: '/v1/echo',
        handle: (r: { body: Buffer }) => ({ status: 200, body: r.body }),
      },
      {
        method: 'get' as const,
        pattern: '/v1/throws',
        handle: () => {
          throw new Error('boom');
        },
      },
    ],
  };
}
