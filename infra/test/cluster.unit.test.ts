/** The local cluster's pure parts: the load balancer's configuration and the service images' names. */
import assert from 'node:assert/strict';
import { haproxyConfig } from '../src/cluster/haproxy.js';
import { parseServiceImageLines } from '../src/cluster/images.js';

const OPTIONS = {
  backends: [
    { name: 'command-1', host: 'collab-it-stack-command-1', port: 8080 },
    { name: 'command-2', host: 'collab-it-stack-command-2', port: 8080 },
  ],
  port: 8080,
  statsPort: 8404,
  serverIdleTimeoutSeconds: 60,
  checkIntervalMs: 2000,
};

/** The value of a directive (first match) in the config text, e.g. `timeout tunnel` → `120s`. */
const directive = (config: string, name: string): string | undefined =>
  config
    .split('\n')
    .find((line) => line.trim().startsWith(`${name} `))
    ?.trim()
    .slice(name.length + 1);

describe('haproxyConfig', () => {
  const config = haproxyConfig(OPTIONS);

  it('hashes the doc query hint consistently (round-robin without it) over every instance', () => {
    assert.equal(directive(config, 'balance'), 'url_param doc');
    assert.equal(directive(config, 'hash-type'), 'consistent');
    assert.match(config, /^ {2}server command-1 collab-it-stack-command-1:8080 check /m);
    assert.match(config, /^ {2}server command-2 collab-it-stack-command-2:8080 check /m);
  });

  it('keeps an idle WebSocket open longer than the server idle timeout (so longer than the client heartbeat)', () => {
    // The welcome's heartbeatMs is half the idle timeout: a quiet client pings every 30 s with the default 60 s.
    const tunnel = Number(/^(\d+)s$/.exec(directive(config, 'timeout tunnel') ?? '')?.[1]);
    assert.equal(tunnel, 120);
    assert.ok(tunnel > OPTIONS.serverIdleTimeoutSeconds);
  });

  it('takes instances out on their readiness endpoint', () => {
    assert.equal(directive(config, 'option httpchk'), 'GET /readyz');
    assert.equal(directive(config, 'http-check expect'), 'status 200');
    assert.equal(directive(config, 'default-server'), 'inter 2000 fall 2 rise 2');
    assert.match(config, /^ {2}option redispatch$/m);
  });

  it('refuses no backends and names that would break the file', () => {
    assert.throws(() => haproxyConfig({ ...OPTIONS, backends: [] }), /at least one backend/);
    assert.throws(
      () => haproxyConfig({ ...OPTIONS, backends: [{ name: 'x\n  bind :1', host: 'h', port: 1 }] }),
      /invalid backend/,
    );
  });
});

describe('parseServiceImageLines', () => {
  it('reads the five KEY=image lines and names a missing one', () => {
    const lines = [
      'COMMAND_SERVICE_IMAGE=collab/command-service:0.1.0-aaa',
      'PROJECTION_SERVICE_IMAGE=collab/projection-service:0.1.0-aaa',
      'SNAPSHOT_SERVICE_IMAGE=collab/snapshot-service:0.1.0-aaa',
      'CLI_IMAGE=collab/cli:0.1.0-aaa',
      'LB_IMAGE=collab/lb:haproxy-bbb',
    ];
    assert.deepEqual(parseServiceImageLines(lines.join('\n')), {
      commandService: 'collab/command-service:0.1.0-aaa',
      projectionService: 'collab/projection-service:0.1.0-aaa',
      snapshotService: 'collab/snapshot-service:0.1.0-aaa',
      cli: 'collab/cli:0.1.0-aaa',
      lb: 'collab/lb:haproxy-bbb',
    });
    assert.throws(() => parseServiceImageLines(lines.slice(0, 4).join('\n')), /did not print LB_IMAGE/);
  });
});
