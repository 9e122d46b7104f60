/** The CLI's configuration: the mode, the distributed sections, every problem at once, secrets redacted. */
import assert from 'node:assert/strict';
import { DEFAULT_COMMENT_LIMITS } from '@collab/core';
import { DEFAULT_OPS_PARTITIONS } from '@collab/env-config';
import { loadDistributedConfig, redactDistributed } from '../src/config/distributed-config.js';
import { resolveMode } from '../src/config/mode.js';
import { ConfigProblems, devTokensDecision, loadEmbeddedConfig } from '../src/embedded-config.js';

describe('CLI configuration', () => {
  it('mode: the flag wins over COLLAB_MODE; embedded by default; anything else is a problem', () => {
    assert.deepEqual(resolveMode({}, undefined), { mode: 'embedded' });
    assert.deepEqual(resolveMode({ COLLAB_MODE: 'distributed' }, undefined), { mode: 'distributed' });
    assert.deepEqual(resolveMode({ COLLAB_MODE: 'distributed' }, 'embedded'), { mode: 'embedded' });
    assert.match((resolveMode({ COLLAB_MODE: 'x' }, undefined) as { problem: string }).problem, /^COLLAB_MODE:/);
    assert.match((resolveMode({}, 'x') as { problem: string }).problem, /^--mode:/);
  });

  it('validates only the sections asked for, listing every problem of all of them', () => {
    assert.deepEqual(loadDistributedConfig({}, ['s3']).s3?.bucket, 'collab-snapshots');
    assert.throws(
      () =>
        loadDistributedConfig({ COLLAB_OPS_PARTITIONS: '0', S3_SECRET_ACCESS_KEY: 's', S3_ENDPOINT: 'nope' }, [
          'kafka',
          'cassandra',
          's3',
        ]),
      (err: ConfigProblems) => {
        const text = err.problems.join('\n');
        for (const p of ['KAFKA_BROKERS', 'COLLAB_OPS_PARTITIONS', 'CASSANDRA_CONTACT_POINTS', 'S3_ENDPOINT']) {
          assert.match(text, new RegExp(`^${p}:`, 'm'));
        }
        return err instanceof ConfigProblems;
      },
    );
  });

  it('parses lists and defaults, and redacts the S3 credentials', () => {
    const config = loadDistributedConfig(
      {
        KAFKA_BROKERS: 'a:9092, b:9092,',
        CASSANDRA_CONTACT_POINTS: 'c:9042',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 'secret',
      },
      ['kafka', 'cassandra', 's3'],
    );
    assert.deepEqual(config.kafka, {
      brokers: ['a:9092', 'b:9092'],
      topic: 'collab.ops',
      partitions: DEFAULT_OPS_PARTITIONS,
      commandsTopic: 'collab.commands',
      repliesTopic: 'collab.replies',
      replicationFactor: 1,
      security: {},
    });
    assert.equal(config.cassandra?.keyspace, 'collab');
    assert.ok(!JSON.stringify(redactDistributed(config)).includes('secret'));
    assert.equal((redactDistributed(config).s3 as { credentials: string }).credentials, '[redacted]');
  });

  it('embedded limits: the distributed defaults, the same variables, every bad value listed', () => {
    const env = { COLLAB_JWT_SECRET: 'x'.repeat(32) };
    const config = loadEmbeddedConfig(env, {});
    assert.deepEqual(config.limits, {
      maxFrameBytes: 256 * 1024,
      maxOpInsertLength: 64 * 1024,
      maxDocumentLength: 16 * 1024 * 1024,
      maxCatchupBytes: 4 * 1024 * 1024,
      opensPerSecond: 10,
    });
    assert.deepEqual(config.readApi, { readsPerSecond: 20, concurrentReads: 2, queuedReads: 64 });
    const set = loadEmbeddedConfig({ ...env, COLLAB_MAX_CATCHUP_BYTES: '65536', COLLAB_READS_PER_SECOND: '3' }, {});
    assert.equal(set.limits.maxCatchupBytes, 65_536);
    assert.equal(set.readApi.readsPerSecond, 3);
    assert.throws(
      () => loadEmbeddedConfig({ ...env, COLLAB_OPENS_PER_SECOND: '0', COLLAB_MAX_FRAME_BYTES: 'big' }, {}),
      (err: ConfigProblems) =>
        err.problems.some((p) => p.startsWith('COLLAB_OPENS_PER_SECOND:')) &&
        err.problems.some((p) => p.startsWith('COLLAB_MAX_FRAME_BYTES:')),
    );
  });

  it('embedded comment limits: DEFAULT_COMMENT_LIMITS, each overridable by the same variables as distributed', () => {
    const env = { COLLAB_JWT_SECRET: 'x'.repeat(32) };
    assert.deepEqual(loadEmbeddedConfig(env, {}).commentLimits, DEFAULT_COMMENT_LIMITS);
    assert.deepEqual(loadEmbeddedConfig({ ...env, COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD: '7' }, {}).commentLimits, {
      ...DEFAULT_COMMENT_LIMITS,
      maxMessagesPerThread: 7,
    });
    assert.throws(
      () => loadEmbeddedConfig({ ...env, COLLAB_COMMENT_MAX_MESSAGE_CHARS: '-1', COLLAB_COMMENT_MAX_THREADS: 'x' }, {}),
      (err: ConfigProblems) =>
        err.problems.some((p) => p.startsWith('COLLAB_COMMENT_MAX_MESSAGE_CHARS:')) &&
        err.problems.some((p) => p.startsWith('COLLAB_COMMENT_MAX_THREADS:')),
    );
  });

  it('dev tokens: unset, on for a loopback bind only; asked for on another interface, on and flagged', () => {
    assert.deepEqual(devTokensDecision('127.0.0.1', undefined), { on: true, reason: 'loopback' });
    assert.deepEqual(devTokensDecision('localhost', undefined), { on: true, reason: 'loopback' });
    assert.deepEqual(devTokensDecision('0.0.0.0', undefined), { on: false, reason: 'not-loopback' });
    assert.deepEqual(devTokensDecision('::', undefined), { on: false, reason: 'not-loopback' });
    assert.deepEqual(devTokensDecision('192.168.1.5', undefined), { on: false, reason: 'not-loopback' });
    assert.deepEqual(devTokensDecision('0.0.0.0', 'true'), { on: true, reason: 'exposed' });
    assert.deepEqual(devTokensDecision('127.0.0.1', 'false'), { on: false, reason: 'turned-off' });
  });

  it('embedded: --host 0.0.0.0 turns dev tokens off; the edge settings are read and validated', () => {
    const secret = { COLLAB_JWT_SECRET: 'x'.repeat(32) };
    assert.equal(loadEmbeddedConfig(secret, {}).devTokens, true);
    assert.equal(loadEmbeddedConfig(secret, { host: '0.0.0.0' }).devTokens, false);
    assert.equal(loadEmbeddedConfig({ ...secret, COLLAB_HOST: '0.0.0.0' }, {}).devTokens, false);
    const config = loadEmbeddedConfig(
      {
        ...secret,
        COLLAB_DEV_TOKENS: 'true',
        COLLAB_ALLOWED_HOSTS: 'collab.lan',
        COLLAB_ALLOWED_ORIGINS: 'http://collab.lan:8080',
        COLLAB_MAX_CONNECTIONS: '100',
        COLLAB_MAX_CONNECTIONS_PER_IP: '10',
        COLLAB_AUTH_TIMEOUT_MS: '2000',
      },
      { host: '0.0.0.0' },
    );
    assert.equal(config.devTokensReason, 'exposed');
    assert.deepEqual(config.access, { allowedHosts: ['collab.lan'], allowedOrigins: ['http://collab.lan:8080'] });
    assert.deepEqual(config.connections, { max: 100, maxPerAddress: 10, authTimeoutMs: 2000 });
    assert.throws(
      () => loadEmbeddedConfig({ ...secret, COLLAB_DEV_TOKENS: 'yes', COLLAB_ALLOWED_ORIGINS: 'evil' }, {}),
      (err: ConfigProblems) =>
        err.problems.some((p) => p.startsWith('COLLAB_DEV_TOKENS')) &&
        err.problems.some((p) => p.startsWith('COLLAB_ALLOWED_ORIGINS')),
    );
  });

  it('reads the Kafka and Cassandra security, refuses it half-given, and redacts the passwords', () => {
    const env = {
      KAFKA_BROKERS: 'a:9093',
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'collab',
      KAFKA_SASL_PASSWORD: 'kafka-pw',
      CASSANDRA_CONTACT_POINTS: 'c:9042',
      CASSANDRA_USERNAME: 'collab',
      CASSANDRA_PASSWORD: 'cassandra-pw',
    };
    const config = loadDistributedConfig(env, ['kafka', 'cassandra']);
    assert.deepEqual(config.kafka?.security, {
      tls: {},
      sasl: { mechanism: 'scram-sha-512', username: 'collab', password: 'kafka-pw' },
    });
    assert.deepEqual(config.cassandra?.security, { credentials: { username: 'collab', password: 'cassandra-pw' } });
    const printed = JSON.stringify(redactDistributed(config));
    assert.ok(!printed.includes('kafka-pw') && !printed.includes('cassandra-pw'), printed);
    assert.throws(
      () => loadDistributedConfig({ ...env, KAFKA_SASL_PASSWORD: '', CASSANDRA_PASSWORD: '' }, ['kafka', 'cassandra']),
      (err: unknown) =>
        err instanceof ConfigProblems &&
        /KAFKA_SASL_PASSWORD: required/.test(err.message) &&
        /CASSANDRA_USERNAME and CASSANDRA_PASSWORD/.test(err.message),
    );
  });
});
