/**
 * The edge's decisions without a server: which Host and Origin headers are answered (by bind and allow-lists),
 * connection counting in all and per address, and the auth deadline on a transport. The same code refusing real
 * sockets: cli/test/edge.e2e.test.ts (`collab serve`) and edge.int.test.ts (the distributed command-service).
 */
import assert from 'node:assert/strict';
import type { ServerMessage } from '@collab/protocol';
import type { Transport } from '../src/session/session.js';
import { ConnectionCounter, withAuthDeadline } from '../src/transport/connection-limits.js';
import { createAccessCheck, isLoopbackHost, parseHostPort } from '../src/transport/edge-access.js';

const codeOf = (r: { code: string } | undefined): string => r?.code ?? 'ok';

describe('edge access: Host and Origin', () => {
  it('tells loopback binds from the others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST']) {
      assert.equal(isLoopbackHost(h), true, h);
    }
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'collab.example.com', '128.0.0.1']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });

  it('parses Host headers: names, ports, bracketed IPv6, a trailing dot; refuses junk', () => {
    assert.deepEqual(parseHostPort('LocalHost:8080'), { name: 'localhost', port: 8080 });
    assert.deepEqual(parseHostPort('[::1]:80'), { name: '[::1]', port: 80 });
    assert.deepEqual(parseHostPort('collab.example.com.'), { name: 'collab.example.com' });
    for (const junk of ['', 'a b', 'http://x', 'x:y', '::1', 'a:1:2'])
      assert.equal(parseHostPort(junk), undefined, junk);
  });

  it('on a loopback bind answers only localhost, 127.0.0.1 and [::1] with the bound port (DNS rebinding)', () => {
    let port = 0;
    const check = createAccessCheck('127.0.0.1', {}, () => port);
    port = 8123; // learned once listening
    for (const host of ['localhost:8123', '127.0.0.1:8123', '[::1]:8123', 'LOCALHOST:8123']) {
      assert.equal(codeOf(check({ host })), 'ok', host);
    }
    for (const host of ['evil.example:8123', 'evil.example', 'localhost:9999', '127.0.0.2:8123', '', undefined]) {
      assert.equal(codeOf(check({ host })), 'ERR_HOST_NOT_ALLOWED', String(host));
    }
  });

  it('takes an Origin only from the page this server serves, and none at all from clients outside browsers', () => {
    const check = createAccessCheck('127.0.0.1', {}, () => 8123);
    const host = '127.0.0.1:8123';
    assert.equal(codeOf(check({ host })), 'ok'); // the SDK on Node, curl: no Origin
    assert.equal(codeOf(check({ host, origin: 'http://127.0.0.1:8123' })), 'ok');
    for (const origin of [
      'http://evil.example:8123',
      'http://localhost:8123', // another origin than the Host the request went to
      'http://127.0.0.1:9999',
      'null', // sandboxed frames, file: pages
      'chrome-extension://abc',
      'not a url',
    ]) {
      assert.equal(codeOf(check({ host, origin })), 'ERR_ORIGIN_NOT_ALLOWED', origin);
    }
  });

  it('on any other bind answers every name by default, still same-origin only', () => {
    const check = createAccessCheck('0.0.0.0', {}, () => 8080);
    assert.equal(codeOf(check({ host: 'collab.example.com' })), 'ok');
    assert.equal(codeOf(check({ host: 'collab.example.com', origin: 'https://collab.example.com' })), 'ok');
    assert.equal(codeOf(check({ host: 'collab.example.com:8080', origin: 'http://collab.example.com:8080' })), 'ok');
    assert.equal(
      codeOf(check({ host: 'collab.example.com', origin: 'https://evil.example' })),
      'ERR_ORIGIN_NOT_ALLOWED',
    );
  });

  it('follows configured lists: a host alone matches any port, origins match exactly, * allows any', () => {
    const check = createAccessCheck(
      '0.0.0.0',
      { allowedHosts: ['collab.example.com', 'edge.internal:9000'], allowedOrigins: ['https://collab.example.com'] },
      () => 8080,
    );
    assert.equal(codeOf(check({ host: 'collab.example.com' })), 'ok');
    assert.equal(codeOf(check({ host: 'collab.example.com:8080' })), 'ok');
    assert.equal(codeOf(check({ host: 'edge.internal:9000' })), 'ok');
    assert.equal(codeOf(check({ host: 'edge.internal:9001' })), 'ERR_HOST_NOT_ALLOWED');
    assert.equal(codeOf(check({ host: 'evil.example' })), 'ERR_HOST_NOT_ALLOWED');
    assert.equal(codeOf(check({ host: 'collab.example.com', origin: 'https://collab.example.com:443' })), 'ok');
    assert.equal(
      codeOf(check({ host: 'collab.example.com', origin: 'http://collab.example.com' })),
      'ERR_ORIGIN_NOT_ALLOWED',
    );
    const open = createAccessCheck('127.0.0.1', { allowedHosts: ['*'], allowedOrigins: ['*'] }, () => 1);
    assert.equal(codeOf(open({ host: 'evil.example', origin: 'https://evil.example' })), 'ok');
  });
});

describe('edge connections', () => {
  it('counts connections in all and per address, refusing the more specific reason first', () => {
    const counter = new ConnectionCounter({ max: 3, maxPerAddress: 2 });
    assert.equal(counter.admit('a'), undefined);
    assert.equal(counter.admit('a'), undefined);
    assert.equal(counter.admit('a'), 'ERR_TOO_MANY_CONNECTIONS');
    assert.equal(counter.admit('b'), undefined);
    assert.equal(counter.admit('c'), 'ERR_SERVER_FULL');
    assert.equal(counter.admit('a'), 'ERR_TOO_MANY_CONNECTIONS');
    counter.release('a');
    assert.equal(counter.open, 2);
    assert.equal(counter.admit('c'), undefined);
    counter.release('zzz'); // never admitted: nothing to release
    assert.equal(counter.open, 3);
  });

  function recordingTransport(): { transport: Transport; sent: ServerMessage[]; closed: Promise<[number, string]> } {
    const sent: ServerMessage[] = [];
    let close!: (v: [number, string]) => void;
    const closed = new Promise<[number, string]>((resolve) => (close = resolve));
    return {
      sent,
      closed,
      transport: { send: (m) => sent.push(m), close: (code, reason) => close([code, reason]) },
    };
  }

  it('closes a connection not welcomed within the deadline, whatever else it sent (pongs included)', async () => {
    const t = recordingTransport();
    const { transport } = withAuthDeadline(t.transport, 20);
    transport.send({ t: 'pong' });
    assert.deepEqual(await t.closed, [1008, 'ERR_AUTH_TIMEOUT']);
    assert.deepEqual(
      t.sent.map((m) => (m.t === 'error' ? m.code : m.t)),
      ['pong', 'ERR_AUTH_TIMEOUT'],
    );
  });

  it('keeps a welcomed connection past the deadline', async () => {
    const welcomed = recordingTransport();
    const late = recordingTransport();
    withAuthDeadline(welcomed.transport, 20).transport.send({
      t: 'welcome',
      protocol: 1,
      userId: 'u',
      sessionId: 's',
      limits: {
        maxFrameBytes: 1,
        maxOpInsertLength: 1,
        maxOpComponents: 1,
        maxDocumentLength: 1,
        maxDocuments: 1,
        maxUnacked: 1,
        opsPerSecond: 1,
        opensPerSecond: 1,
      },
      heartbeatMs: 1,
    });
    // A second connection with a later deadline: once it is closed, the first one's deadline has long passed.
    withAuthDeadline(late.transport, 40);
    await late.closed;
    assert.deepEqual(
      welcomed.sent.map((m) => m.t),
      ['welcome'],
    );
  });
});
