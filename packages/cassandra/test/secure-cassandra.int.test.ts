/**
 * The read-model store against a Cassandra node with security on (its own container, see @collab/infra
 * secure-servers.ts): PasswordAuthenticator and client TLS, configured the way an operator does it (variables and
 * a CA file through @collab/env-config). An authenticated round trip works; a wrong password, no credentials, and
 * a node certificate we have no CA for each fail at once with ERR_UNAUTHENTICATED (not retriable). The last one is
 * the driver's own default (it accepts any certificate unless told otherwise) that the adapter overrides.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { isCollabError } from '@collab/core';
import { loadCassandraSecurity } from '@collab/env-config';
import { requireSecureServers, startSecureCassandra, writePkiFiles, type SecureCassandra } from '@collab/infra';
import {
  cassandraSecurityOptions,
  createCassandraReadModelStore,
  migrate,
  type CassandraSecurity,
} from '../src/index.js';
import { freshKeyspaceName, TEST_REPLICATION } from './stack.js';

const refusedAsUnauthenticated = (err: unknown): boolean => {
  assert.ok(isCollabError(err, 'ERR_UNAUTHENTICATED'), `expected ERR_UNAUTHENTICATED, got ${String(err)}`);
  assert.equal(err.retriable, false);
  return true;
};

describe('Cassandra with security on', function () {
  this.timeout(180_000);
  let node: SecureCassandra | undefined;
  let files: Awaited<ReturnType<typeof writePkiFiles>> | undefined;
  let security: CassandraSecurity;
  const keyspace = freshKeyspaceName('secure_test');
  const store = (s: CassandraSecurity) =>
    createCassandraReadModelStore({
      contactPoints: node!.contactPoints,
      localDataCenter: node!.localDataCenter,
      keyspace,
      security: s,
    });

  before(async function () {
    await requireSecureServers(this);
    node = await startSecureCassandra();
    files = await writePkiFiles(node.pki);
    const loaded = loadCassandraSecurity({
      CASSANDRA_USERNAME: node.credentials.username,
      CASSANDRA_PASSWORD: node.credentials.password,
      CASSANDRA_TLS: 'true',
      CASSANDRA_TLS_CA_FILE: files.ca,
    });
    assert.deepEqual(loaded.problems, []);
    security = loaded.value;
    // The schema, through a client with the same settings (what `collab migrate` and COLLAB_MIGRATE do).
    const admin = new cassandra.Client({
      contactPoints: node.contactPoints,
      localDataCenter: node.localDataCenter,
      socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
      ...cassandraSecurityOptions(security),
    });
    try {
      await migrate(admin, { keyspace, replication: TEST_REPLICATION });
    } finally {
      await admin.shutdown();
    }
  });
  after(async () => {
    await files?.remove();
    await node?.stop();
  });

  it('with the role and the CA: writes ops and reads them back over TLS', async function () {
    const s = await store(security);
    try {
      const docId = `doc-${randomUUID()}`;
      await s.writeOps([
        { docId, version: 1, op: ['hello'], baseVersion: 0, clientId: 'c', seq: 1, userId: 'u', timestamp: 1 },
      ]);
      assert.deepEqual(
        (await s.getOps(docId, 1, 2)).map((r) => r.op),
        [['hello']],
      );
    } finally {
      await s.close();
    }
  });

  it('a wrong password is refused: ERR_UNAUTHENTICATED', async function () {
    const wrong = { ...security, credentials: { ...security.credentials!, password: 'not-the-password' } };
    await assert.rejects(store(wrong), refusedAsUnauthenticated);
  });

  it('no credentials at all are refused: ERR_UNAUTHENTICATED', async function () {
    await assert.rejects(store({ tls: security.tls! }), refusedAsUnauthenticated);
  });

  it('a node certificate from a CA we were not given is refused before the password is sent', async function () {
    await assert.rejects(store({ ...security, tls: {} }), refusedAsUnauthenticated);
  });
});
