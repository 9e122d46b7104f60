/**
 * The op log against a Kafka broker with security on (its own container, see @collab/infra secure-servers.ts):
 * SASL_SSL with SCRAM-SHA-512 configured the way an operator does it (variables and PEM files through
 * @collab/env-config), and mTLS. An authenticated round trip works; a wrong password, a broker certificate we do
 * not trust, and a missing client certificate each fail at once with ERR_UNAUTHENTICATED (not retriable), never
 * as an outage to wait out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isCollabError, type OpCommitted, type OpLog } from '@collab/core';
import { loadKafkaSecurity } from '@collab/env-config';
import { requireSecureServers, startSecureKafka, writePkiFiles, type SecureKafka } from '@collab/infra';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaOpLog, ensureOpsTopic, kafkaSecurityConfig, type KafkaSecurity } from '../src/index.js';

const sample = (docId: string): OpCommitted => ({
  docId,
  version: 1,
  op: ['hello'],
  baseVersion: 0,
  clientId: 'c',
  seq: 1,
  userId: 'u',
  timestamp: 1_764_230_400_000,
});

const open = (brokers: string[], topic: string, security: KafkaSecurity): Promise<OpLog> =>
  createKafkaOpLog({ brokers, topic, partitionCount: 1, clientId: `secure-test-${topic}`, security });

/** Opening fails at the first refusal: no retries, so an authentication failure cannot hide behind backoff. */
const refused = (brokers: string[], topic: string, security: KafkaSecurity): Promise<OpLog> =>
  createKafkaOpLog({ brokers, topic, partitionCount: 1, clientId: `secure-test-${topic}`, security, retries: 0 });

const refusedAsUnauthenticated = (err: unknown): boolean => {
  assert.ok(isCollabError(err, 'ERR_UNAUTHENTICATED'), `expected ERR_UNAUTHENTICATED, got ${String(err)}`);
  assert.equal(err.retriable, false);
  return true;
};

async function roundTrip(log: OpLog): Promise<void> {
  const docId = `doc-${randomUUID()}`;
  const writer = await log.openWriter(0);
  try {
    const [offset] = await writer.append([{ value: sample(docId) }]);
    const read = [];
    for await (const batch of log.read(0, offset!)) read.push(...batch);
    assert.deepEqual(
      read.map((r) => r.value.docId),
      [docId],
    );
  } finally {
    await writer.close();
  }
}

describe('Kafka with security on', function () {
  this.timeout(180_000);
  let kafka: SecureKafka | undefined;
  let files: Awaited<ReturnType<typeof writePkiFiles>> | undefined;
  let saslSsl: KafkaSecurity;
  const topic = `secure-ops-${randomUUID().slice(0, 8)}`;

  before(async function () {
    await requireSecureServers(this);
    kafka = await startSecureKafka();
    files = await writePkiFiles(kafka.pki);
    // As an operator configures it: variables and a CA file, checked and read at start.
    const loaded = loadKafkaSecurity({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: kafka.scram.username,
      KAFKA_SASL_PASSWORD: kafka.scram.password,
      KAFKA_TLS_CA_FILE: files.ca,
    });
    assert.deepEqual(loaded.problems, []);
    saslSsl = loaded.value;
    const admin = new Kafka({
      clientId: 'secure-test-admin',
      brokers: kafka.saslSslBrokers,
      logLevel: logLevel.NOTHING,
      ...kafkaSecurityConfig(saslSsl),
    }).admin();
    await admin.connect();
    try {
      await ensureOpsTopic(admin, { topic, partitions: 1, replicationFactor: 1 });
    } finally {
      await admin.disconnect();
    }
  });
  after(async () => {
    await files?.remove();
    await kafka?.stop();
  });

  it('SASL_SSL (SCRAM-SHA-512, broker verified against the CA): appends and reads back', async function () {
    const log = await open(kafka!.saslSslBrokers, topic, saslSsl);
    try {
      await roundTrip(log);
    } finally {
      await log.close();
    }
  });

  it('a wrong SCRAM password is refused: ERR_UNAUTHENTICATED', async function () {
    const wrong: KafkaSecurity = { ...saslSsl, sasl: { ...saslSsl.sasl!, password: 'not-the-password' } };
    await assert.rejects(refused(kafka!.saslSslBrokers, topic, wrong), refusedAsUnauthenticated);
  });

  it('a broker certificate signed by a CA we were not given is refused before any password is sent', async function () {
    const systemRootsOnly: KafkaSecurity = { ...saslSsl, tls: {} };
    await assert.rejects(refused(kafka!.saslSslBrokers, topic, systemRootsOnly), refusedAsUnauthenticated);
  });

  it('mTLS: the client certificate gets in; without it the broker refuses', async function () {
    const pki = kafka!.pki;
    const log = await open(kafka!.mtlsBrokers, topic, {
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    try {
      await roundTrip(log);
    } finally {
      await log.close();
    }
    await assert.rejects(refused(kafka!.mtlsBrokers, topic, { tls: { ca: pki.ca } }), refusedAsUnauthenticated);
  });
});
