/**
 * `collab serve` attacked at its edge, for real: the CLI spawned as users start it, and requests sent over real
 * sockets — always to 127.0.0.1 — the way an attacker would send them. A DNS-rebinding page's requests arrive
 * saying `Host: evil.example`; another site's page says `Origin: http://evil.example`; a flood opens sockets and
 * never authenticates. A "non-loopback bind" is a server on 0.0.0.0 reached through 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { answersPing, httpTo, welcomedWs, wsTo, type ProbeSocket } from './support/edge-probe.js';
import { cleanEnv, cli, devToken, startServer, tempDataDir, type ServerProcess } from './support/cli.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('collab serve at the edge (end to end)', function () {
  this.timeout(120_000);
  const open: ProbeSocket[] = [];
  // Wait for each close: a socket the server still counts would take a slot of the next test's connection caps
  // (seen with the ws transport, whose close reached the server after the next test had connected).
  afterEach(async () => {
    await Promise.all(
      open.splice(0).map(async (c) => {
        c.close();
        await c.closed;
      }),
    );
  });
  const keep = (c: ProbeSocket): ProbeSocket => {
    open.push(c);
    return c;
  };

  describe('on loopback (the default bind)', () => {
    const data = tempDataDir();
    const dataDir = join(data.dir, 'data'); // created by the server
    let server: ServerProcess;
    let port: number;
    let token: string;

    before(async () => {
      server = await startServer(dataDir);
      port = server.port;
      token = await devToken(`http://127.0.0.1:${port}`, 'alice');
    });
    after(async () => {
      await server?.stop('SIGTERM');
      data.remove();
    });

    it('refuses a DNS-rebinding request (Host: evil.example) on every route and on the WebSocket upgrade', async () => {
      const evil = { host: `evil.example:${port}` };
      const attempts: [string, string, Record<string, string>?][] = [
        ['GET', '/'],
        ['GET', '/app.js'],
        ['POST', '/v1/dev/token'],
        ['GET', '/v1/docs/notes', { authorization: `Bearer ${token}` }],
        ['GET', '/v1/status'],
      ];
      for (const [method, path, headers] of attempts) {
        const r = await httpTo(port, path, {
          method,
          headers: { ...evil, ...headers },
          ...(method === 'POST' ? { body: '{"user":"mallory"}' } : {}),
        });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.code, 'ERR_HOST_NOT_ALLOWED', `${method} ${path}`);
        assert.doesNotMatch(r.body, /token"/);
      }
      await assert.rejects(wsTo(port, evil), /Unexpected server response: 403/);
      // The same requests for the names this server is: answered.
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
        assert.equal((await httpTo(port, '/', { headers: { host } })).status, 200, host);
      }
      const dev = await httpTo(port, '/v1/dev/token', {
        method: 'POST',
        headers: { host: `localhost:${port}` },
        body: '{"user":"bob"}',
      });
      assert.equal(dev.status, 200);
      keep(await welcomedWs(port, token, { host: `localhost:${port}` }));
      // Liveness and readiness probes address instances by IP: they answer any Host, and reveal only up or down.
      assert.equal((await httpTo(port, '/healthz', { headers: evil })).status, 200);
    });

    it('refuses pages from other origins on the upgrade and the API; Node clients (no Origin) connect', async () => {
      for (const origin of [`http://evil.example:${port}`, `http://localhost:${port}`, 'null']) {
        await assert.rejects(wsTo(port, { origin }), /Unexpected server response: 403/, origin);
        const r = await httpTo(port, '/v1/dev/token', {
          method: 'POST',
          headers: { origin, 'content-type': 'text/plain' },
          body: '{"user":"mallory"}',
        });
        assert.equal(r.code, 'ERR_ORIGIN_NOT_ALLOWED', origin);
      }
      keep(await welcomedWs(port, token, { origin: `http://127.0.0.1:${port}` })); // the page this server serves
      keep(await welcomedWs(port, token)); // the SDK on Node, curl
    });

    it('sends a Content-Security-Policy, frame-ancestors, Referrer-Policy and nosniff with the page and the API', async () => {
      const page = await httpTo(port, '/?doc=notes');
      const csp = String(page.headers['content-security-policy']);
      for (const directive of [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "default-src 'none'",
        "base-uri 'none'",
      ]) {
        assert.ok(csp.includes(directive), `${directive} in ${csp}`);
      }
      assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
      assert.equal(page.headers['referrer-policy'], 'same-origin');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      for (const path of ['/v1/docs/notes', '/v1/status', '/healthz', '/nowhere']) {
        const r = await httpTo(port, path, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", path);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
        assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
      }
    });

    it('creates the data folder 0700 and its files 0600 (the documents, the WAL, the signing secret)', () => {
      assert.equal(modeOf(dataDir), '700');
      for (const file of ['collab.db', 'collab.db-wal', 'collab.db-shm', 'jwt-secret']) {
        assert.equal(modeOf(join(dataDir, file)), '600', file);
      }
    });
  });

  describe('connection caps and the auth deadline', () => {
    const data = tempDataDir();
    let server: ServerProcess;
    let port: number;
    let token: string;

    before(async () => {
      server = await startServer(
        data.dir,
        0,
        cleanEnv({ COLLAB_MAX_CONNECTIONS: '3', COLLAB_MAX_CONNECTIONS_PER_IP: '2', COLLAB_AUTH_TIMEOUT_MS: '2000' }),
      );
      port = server.port;
      token = await devToken(`http://127.0.0.1:${port}`, 'alice');
    });
    after(async () => {
      await server?.stop('SIGTERM');
      data.remove();
    });

    async function refusedWith(code: string, localAddress: string): Promise<void> {
      const c = await wsTo(port, { localAddress });
      const error = await c.next('error');
      assert.equal(error.code, code);
      assert.equal(error.retriable, true);
      assert.deepEqual(await c.closed, { code: 1013, reason: code });
    }

    it('caps connections per address (ERR_TOO_MANY_CONNECTIONS) and in all (ERR_SERVER_FULL); a close frees a slot', async () => {
      const first = keep(await welcomedWs(port, token));
      keep(await welcomedWs(port, token));
      await refusedWith('ERR_TOO_MANY_CONNECTIONS', '127.0.0.1');
      keep(await welcomedWs(port, token, { localAddress: '127.0.0.2' })); // another address: room for it
      await refusedWith('ERR_SERVER_FULL', '127.0.0.3');
      first.close();
      await first.closed;
      keep(await welcomedWs(port, token));
    });

    it('closes a socket that never authenticates, though it keeps pinging (ERR_AUTH_TIMEOUT, 1008)', async function () {
      this.timeout(30_000); // the deadline is 2 s: without it, the socket would stay open until this ends
      const authenticated = keep(await welcomedWs(port, token, { localAddress: '127.0.0.4' }));
      const idle = keep(await wsTo(port, { localAddress: '127.0.0.5' }));
      // Pings are answered before auth: they used to keep such a socket open forever.
      const pinging = setInterval(() => idle.send({ t: 'ping' }), 200);
      try {
        const closed = await idle.closed;
        assert.deepEqual(closed, { code: 1008, reason: 'ERR_AUTH_TIMEOUT' });
      } finally {
        clearInterval(pinging);
      }
      assert.ok(
        idle.pending().some((m) => m.t === 'pong'),
        'pings were answered meanwhile',
      );
      assert.ok(idle.pending().some((m) => m.t === 'error' && m.code === 'ERR_AUTH_TIMEOUT'));
      // Opened before it, so past its own deadline too: an authenticated socket stays.
      assert.equal(await answersPing(authenticated), true);
    });
  });

  describe('on 0.0.0.0 (reached only through 127.0.0.1)', () => {
    it('turns dev tokens off unless asked for, and says so; CLI tokens still work', async () => {
      const data = tempDataDir();
      const server = await startServer(data.dir, 0, cleanEnv({ COLLAB_HOST: '0.0.0.0' }));
      try {
        const r = await httpTo(server.port, '/v1/dev/token', { method: 'POST', body: '{"user":"mallory"}' });
        assert.equal(r.status, 404);
        assert.match(server.output(), /dev tokens are off on a non-loopback --host/);
        const token = (await cli(['token', '--user', 'alice', '--data-dir', data.dir])).trim();
        keep(await welcomedWs(server.port, token));
        // No names listed: any Host is answered (a public server is reachable directly anyway) ...
        assert.equal((await httpTo(server.port, '/', { headers: { host: 'collab.lan' } })).status, 200);
        // ... but a browser page must come from the server it talks to.
        await assert.rejects(
          wsTo(server.port, { host: 'collab.lan', origin: 'http://evil.example' }),
          /Unexpected server response: 403/,
        );
        keep(await welcomedWs(server.port, token, { host: 'collab.lan', origin: 'http://collab.lan' }));
      } finally {
        for (const c of open.splice(0)) c.close();
        await server.stop('SIGTERM');
        data.remove();
      }
    });

    it('with COLLAB_DEV_TOKENS=true serves them with a loud warning; listed hosts and origins only', async () => {
      const data = tempDataDir();
      const server = await startServer(
        data.dir,
        0,
        cleanEnv({
          COLLAB_HOST: '0.0.0.0',
          COLLAB_DEV_TOKENS: 'true',
          COLLAB_ALLOWED_HOSTS: 'collab.example.test',
          COLLAB_ALLOWED_ORIGINS: 'https://collab.example.test',
        }),
      );
      const { port } = server;
      try {
        assert.match(server.output(), /WARNING: development tokens are ON/);
        assert.match(server.output(), /gets a token that reads and writes EVERY document/);
        const listed = { host: `collab.example.test:${port}` };
        const dev = await httpTo(port, '/v1/dev/token', { method: 'POST', headers: listed, body: '{"user":"a"}' });
        assert.equal(dev.status, 200);
        const { token } = JSON.parse(dev.body) as { token: string };
        for (const host of ['evil.example', `127.0.0.1:${port}`]) {
          const r = await httpTo(port, '/v1/dev/token', { method: 'POST', headers: { host }, body: '{"user":"m"}' });
          assert.equal(r.code, 'ERR_HOST_NOT_ALLOWED', host);
          await assert.rejects(wsTo(port, { host }), /Unexpected server response: 403/, host);
        }
        keep(await welcomedWs(port, token, { ...listed, origin: 'https://collab.example.test' }));
        await assert.rejects(
          wsTo(port, { ...listed, origin: 'http://collab.example.test' }), // another scheme: another origin
          /Unexpected server response: 403/,
        );
      } finally {
        for (const c of open.splice(0)) c.close();
        await server.stop('SIGTERM');
        data.remove();
      }
    });
  });
});
