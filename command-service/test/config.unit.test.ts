/**
 * The command-service's configuration of its identity provider and its secured backends: a JWKS URL only over
 * https (http on loopback), Kafka/Cassandra/Redis security read at start with every problem at once, and no
 * password in the printed configuration.
 */
import assert from 'node:assert/strict';

import { ConfigError, loadConfig, redacted } from '../src/config.js';

const BASE = { KAFKA_BROKERS: 'k:9092', COLLAB_JWT_SECRET: 'a-test-secret-of-at-least-32-chars!!' };

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('command-service config', function () {
  it('turns media on with S3_ENDPOINT: its bucket, its cap, and no secret printed', function () {
    assert.equal(loadConfig(BASE).media, undefined);
    const s3 = {
      ...BASE,
      S3_ENDPOINT: 'http://s3.local:9000',
      S3_ACCESS_KEY_ID: 'AKIA-TEST',
      S3_SECRET_ACCESS_KEY: 'media-secret-key',
      S3_BUCKET: 'snaps',
      S3_PREFIX: 'prod/',
    };
    const media = loadConfig(s3).media;
    assert.equal(media?.maxBytes, 10 * 1024 * 1024);
    assert.equal(media?.s3.bucket, 'snaps');
    assert.equal(media?.s3.prefix, 'prod/');
    const own = loadConfig({ ...s3, COLLAB_MEDIA_BUCKET: 'media', COLLAB_MEDIA_MAX_BYTES: '1048576' });
    assert.deepEqual([own.media?.s3.bucket, own.media?.maxBytes], ['media', 1_048_576]);
    assert.doesNotMatch(JSON.stringify(redacted(own)), /media-secret-key/);
    for (const bad of ['0', '-1', 'lots', String(2 * 1024 ** 3)]) {
      assert.deepEqual(
        problemsOf({ ...s3, COLLAB_MEDIA_MAX_BYTES: bad }).map((p) => p.split(':')[0]),
        ['COLLAB_MEDIA_MAX_BYTES'],
        bad,
      );
    }
  });

  it('a JWKS URL alone is enough; https, or http on loopback only', function () {
    const { auth } = loadConfig({ KAFKA_BROKERS: 'k:9092', COLLAB_JWT_JWKS_URL: 'https://idp.example/jwks.json' });
    assert.deepEqual(auth.jwks, { url: 'https://idp.example/jwks.json', cacheMaxAgeMs: 600_000, cooldownMs: 30_000 });
    const local = 'http://127.0.0.1:8000/jwks';
    assert.equal(loadConfig({ ...BASE, COLLAB_JWT_JWKS_URL: local }).auth.jwks?.url, local);
    for (const url of ['http://idp.example/jwks.json', 'ftp://idp/jwks', 'not a url']) {
      assert.deepEqual(
        problemsOf({ ...BASE, COLLAB_JWT_JWKS_URL: url }).map((p) => p.split(':')[0]),
        ['COLLAB_JWT_JWKS_URL'],
        url,
      );
    }
    assert.match(problemsOf({ KAFKA_BROKERS: 'k:9092' }).join(), /COLLAB_JWT_JWKS_URL: give/);
  });

  it("COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX: the writers' prefix when set (else the log's default), never empty", function () {
    assert.equal(loadConfig(BASE).kafka.transactionalIdPrefix, undefined);
    const prefix = 'ops-writer-2027';
    assert.equal(
      loadConfig({ ...BASE, COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX: prefix }).kafka.transactionalIdPrefix,
      prefix,
    );
    assert.match(
      problemsOf({ ...BASE, COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX: '' }).join('\n'),
      /^COLLAB_KAFKA_TRANSACTIONAL_ID_PREFIX/m,
    );
  });

  it('COLLAB_OPS_SCHEMA_VERSION: a version for the writer without a registry, refused with one or when not a version', function () {
    assert.equal(loadConfig(BASE).kafka.opsSchemaVersion, undefined);
    assert.equal(loadConfig({ ...BASE, COLLAB_OPS_SCHEMA_VERSION: '1' }).kafka.opsSchemaVersion, 1);
    for (const bad of ['0', 'v1', '1.5']) {
      assert.match(
        problemsOf({ ...BASE, COLLAB_OPS_SCHEMA_VERSION: bad }).join('\n'),
        /^COLLAB_OPS_SCHEMA_VERSION/m,
        bad,
      );
    }
    const withRegistry = problemsOf({
      ...BASE,
      COLLAB_OPS_SCHEMA_VERSION: '1',
      COLLAB_SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
      COLLAB_JWT_JWKS_URL: 'ftp://idp/jwks',
    });
    assert.deepEqual(
      withRegistry.map((p) => p.split(':')[0]),
      ['COLLAB_JWT_JWKS_URL', 'COLLAB_OPS_SCHEMA_VERSION'],
      'reported with the other problems, at once',
    );
    assert.match(withRegistry.join('\n'), /only without COLLAB_SCHEMA_REGISTRY_URL/);
  });

  it('reads Kafka, Cassandra and Redis security, and prints none of the secrets', function () {
    const config = loadConfig({
      ...BASE,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: 'collab',
      KAFKA_SASL_PASSWORD: 'kafka-pw',
      CASSANDRA_CONTACT_POINTS: 'c:9042',
      CASSANDRA_USERNAME: 'collab',
      CASSANDRA_PASSWORD: 'cassandra-pw',
      REDIS_URL: 'rediss://presence:redis-pw@r:6380',
    });
    assert.equal(config.kafka.security.sasl?.password, 'kafka-pw');
    assert.deepEqual(config.kafka.security.tls, {});
    assert.equal(config.readApi?.cassandra.security.credentials?.password, 'cassandra-pw');
    assert.deepEqual(config.redis, { url: 'rediss://presence:redis-pw@r:6380', tls: {} });
    const printed = JSON.stringify(redacted(config));
    for (const secret of ['kafka-pw', 'cassandra-pw', 'redis-pw', BASE.COLLAB_JWT_SECRET]) {
      assert.ok(!printed.includes(secret), `${secret} printed: ${printed}`);
    }
    assert.match(printed, /rediss:\/\/presence:\*\*\*@r:6380/);
  });

  it('lists every security problem at once', function () {
    assert.deepEqual(
      problemsOf({
        ...BASE,
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        CASSANDRA_PASSWORD: 'pw',
        REDIS_URL: 'redis://r:6379',
        REDIS_TLS_CA_FILE: '/ca.pem',
      }).map((p) => p.split(':')[0]),
      [
        'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD',
        'CASSANDRA_USERNAME and CASSANDRA_PASSWORD',
        'REDIS_TLS_CA_FILE',
      ],
    );
  });
});
