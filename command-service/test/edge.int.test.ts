/**
 * The distributed command-service (its own process, `command-service/src/main.ts`, on the real Kafka) attacked at
 * its edge over real sockets, always to 127.0.0.1: configured from its environment as operators configure it —
 * where its code differs from `collab serve`'s (config.ts, run.ts); the embedded mode's edge is attacked in
 * cli/test/edge.e2e.test.ts. A "non-loopback bind" is an instance on 0.0.0.0 reached through 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { httpTo } from './support/http-probe.js';
import type { MultiTopic } from './support/processes.js';
import { freshTopics, Instance, until } from './support/processes.js';
import { ofType, RawClient } from './support/raw-client.js';
import { token } from './support/service.js';

interface Dial {
  host?: string;
  origin?: string;
  localAddress?: string;
}

const dial = (port: number, d: Dial = {}): Promise<RawClient> =>
  RawClient.connect(`ws://127.0.0.1:${port}/v1/ws`, {
    ...(d.host === undefined ? {} : { headers: { Host: d.host } }),
    ...(d.origin === undefined ? {} : { origin: d.origin }),
    ...(d.localAddress === undefined ? {} : { localAddress: d.localAddress }),
  });

async function welcomed(port: number, d: Dial = {}): Promise<RawClient> {
  const c = await dial(port, d);
  c.send({ t: 'auth', token: await token('alice'), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

describe('command-service at the edge (distributed, real process)', function () {
  this.timeout(180_000);
  const instances: Instance[] = [];
  const sockets: RawClient[] = [];
  let topics: MultiTopic;
  const keep = (c: RawClient): RawClient => {
    sockets.push(c);
    return c;
  };

  before(async () => {
    topics = await freshTopics(2);
  });
  afterEach(() => {
    for (const c of sockets.splice(0)) c.close();
  });
  after(async () => {
    for (const i of instances) {
      i.kill('SIGTERM');
      await i.exited;
    }
  });

  async function start(name: string, env: Record<string, string>): Promise<Instance> {
    const instance = await Instance.start(topics, name, env);
    instances.push(instance);
    return instance;
  }

  describe('on 0.0.0.0 with listed hosts and origins, small caps and a short auth deadline', () => {
    let port: number;
    before(async () => {
      port = (
        await start('listed', {
          COLLAB_HOST: '0.0.0.0',
          COLLAB_ALLOWED_HOSTS: 'collab.example.test',
          COLLAB_ALLOWED_ORIGINS: 'https://collab.example.test',
          COLLAB_MAX_CONNECTIONS: '3',
          COLLAB_MAX_CONNECTIONS_PER_IP: '2',
          COLLAB_AUTH_TIMEOUT_MS: '2000',
        })
      ).port;
    });

    it('answers only the listed names and origins, on the routes and the upgrade; probes answer any Host', async () => {
      const listed = `collab.example.test:${port}`;
      for (const host of [`evil.example:${port}`, `127.0.0.1:${port}`]) {
        for (const path of ['/', '/v1/status']) {
          const r = await httpTo(port, path, { host });
          assert.equal(r.status, 403, `${host} ${path}`);
          assert.equal(r.code, 'ERR_HOST_NOT_ALLOWED');
        }
        await assert.rejects(dial(port, { host }), /Unexpected server response: 403/, host);
      }
      assert.equal((await httpTo(port, '/v1/status', { host: listed })).status, 200);
      assert.equal((await httpTo(port, '/healthz', { host: `evil.example:${port}` })).status, 200);
      keep(await welcomed(port, { host: listed, origin: 'https://collab.example.test' }));
      for (const origin of ['https://evil.example', `http://collab.example.test:${port}`]) {
        await assert.rejects(dial(port, { host: listed, origin }), /Unexpected server response: 403/, origin);
      }
      // No dev tokens in the distributed mode, whatever the Host.
      assert.equal((await httpTo(port, '/v1/dev/token', { host: listed })).status, 404);
    });

    it('sends the page with its CSP and every other answer with the API headers', async () => {
      const host = `collab.example.test:${port}`;
      const page = await httpTo(port, '/', { host });
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'.*frame-ancestors 'none'/);
      const status = await httpTo(port, '/v1/status', { host });
      assert.equal(status.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
      assert.equal(status.headers['x-content-type-options'], 'nosniff');
    });

    it('caps connections per address and in all (1013), and closes sockets that never authenticate (1008)', async () => {
      const host = `collab.example.test:${port}`;
      keep(await welcomed(port, { host }));
      const second = keep(await welcomed(port, { host }));
      const refusedHere = keep(await dial(port, { host }));
      assert.equal((await refusedHere.next(ofType('error'))).code, 'ERR_TOO_MANY_CONNECTIONS');
      assert.deepEqual(await refusedHere.closed, { code: 1013, reason: 'ERR_TOO_MANY_CONNECTIONS' });
      const idle = keep(await dial(port, { host, localAddress: '127.0.0.2' })); // the third: room for it
      const full = keep(await dial(port, { host, localAddress: '127.0.0.3' }));
      assert.equal((await full.next(ofType('error'))).code, 'ERR_SERVER_FULL');
      assert.deepEqual(await full.closed, { code: 1013, reason: 'ERR_SERVER_FULL' });
      // The idle one keeps pinging and never authenticates: closed at its deadline all the same.
      const pinging = setInterval(() => idle.send({ t: 'ping' }), 200);
      try {
        assert.deepEqual(await idle.closed, { code: 1008, reason: 'ERR_AUTH_TIMEOUT' });
      } finally {
        clearInterval(pinging);
      }
      assert.ok(idle.pending().some((m) => m.t === 'error' && m.code === 'ERR_AUTH_TIMEOUT'));
      // An authenticated one, opened before it, stays; and the slot freed lets another address in.
      second.send({ t: 'ping', id: 'still-here' });
      await second.next(ofType('pong', { id: 'still-here' }));
      keep(await welcomed(port, { host, localAddress: '127.0.0.4' }));
    });
  });

  it('on loopback with no lists (the default), refuses a DNS-rebinding Host and serves its own names', async () => {
    const { port } = await start('loopback', {});
    assert.equal((await httpTo(port, '/v1/status', { host: `evil.example:${port}` })).code, 'ERR_HOST_NOT_ALLOWED');
    await assert.rejects(dial(port, { host: `evil.example:${port}` }), /Unexpected server response: 403/);
    assert.equal((await httpTo(port, '/v1/status', { host: `localhost:${port}` })).status, 200);
    keep(await welcomed(port));
  });

  it('on 0.0.0.0 with no lists, answers any name and warns that it does', async () => {
    const instance = await start('open', { COLLAB_HOST: '0.0.0.0', LOG_LEVEL: 'info' });
    assert.equal((await httpTo(instance.port, '/v1/status', { host: 'collab.lan' })).status, 200);
    // Logged before the ready line, but pino's stream may deliver it after: wait for it, bounded.
    await until(
      'the warning is logged',
      () =>
        instance.lines.some((l) => l.includes('COLLAB_ALLOWED_HOSTS is not set on a non-loopback interface')) ||
        undefined,
      10_000,
    );
  });
});
