/**
 * The presence bus against Redis with security on (its own container, see @collab/infra secure-servers.ts): TLS
 * only, a client certificate required, the default user off and one ACL user, configured the way an operator
 * does it (a rediss:// REDIS_URL with the user in it, and PEM files, through @collab/env-config). Presence works
 * end to end; a wrong password, a server certificate we have no CA for, and a missing client certificate each
 * fail with ERR_UNAUTHENTICATED (not retriable).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventRecorder } from '@collab/contracts';
import { isCollabError, type PresenceBus } from '@collab/core';
import { loadRedisConnection } from '@collab/env-config';
import { requireSecureServers, startSecureRedis, writePkiFiles, type SecureRedis } from '@collab/infra';
import { createRedisPresenceBus, type RedisTls } from '../src/index.js';

const refusedAsUnauthenticated = (err: unknown): boolean => {
  assert.ok(isCollabError(err, 'ERR_UNAUTHENTICATED'), `expected ERR_UNAUTHENTICATED, got ${String(err)}`);
  assert.equal(err.retriable, false);
  return true;
};

describe('Redis with security on', function () {
  this.timeout(120_000);
  let redis: SecureRedis | undefined;
  let files: Awaited<ReturnType<typeof writePkiFiles>> | undefined;
  let url: string;
  let tls: RedisTls;
  const buses: PresenceBus[] = [];
  const bus = (u: string, t: RedisTls): PresenceBus => {
    const b = createRedisPresenceBus({ url: u, tls: t, keyPrefix: `secure-${randomUUID()}:` });
    buses.push(b);
    return b;
  };
  const state = { clientId: 'c1', userId: 'alice', data: { cursor: 3 } };

  before(async function () {
    await requireSecureServers(this);
    redis = await startSecureRedis();
    files = await writePkiFiles(redis.pki);
    const loaded = loadRedisConnection({
      REDIS_URL: redis.url,
      REDIS_TLS_CA_FILE: files.ca,
      REDIS_TLS_CERT_FILE: files.cert,
      REDIS_TLS_KEY_FILE: files.key,
    });
    assert.deepEqual(loaded.problems, []);
    url = loaded.value!.url;
    tls = loaded.value!.tls!;
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  after(async () => {
    await files?.remove();
    await redis?.stop();
  });

  it('with the ACL user, the CA and the client certificate: announce, list and subscribe work', async function () {
    const b = bus(url, tls);
    const docId = `doc-${randomUUID()}`;
    const recorder = new EventRecorder();
    const unsubscribe = await b.subscribe(docId, recorder.listener);
    await b.announce(docId, state, 10_000);
    assert.deepEqual(await b.list(docId), [state]);
    await recorder.next((e) => e.kind === 'update' && e.state.clientId === 'c1', 'the announcement');
    await unsubscribe();
  });

  it('a wrong password is refused: ERR_UNAUTHENTICATED', async function () {
    const wrong = `rediss://${redis!.username}:not-the-password@${redis!.hostPort}`;
    await assert.rejects(bus(wrong, tls).list('doc'), refusedAsUnauthenticated);
  });

  it('a server certificate from a CA we were not given is refused', async function () {
    await assert.rejects(bus(url, { cert: tls.cert!, key: tls.key! }).list('doc'), refusedAsUnauthenticated);
  });

  it('without a client certificate the server refuses', async function () {
    await assert.rejects(bus(url, { ca: tls.ca! }).list('doc'), refusedAsUnauthenticated);
  });
});
