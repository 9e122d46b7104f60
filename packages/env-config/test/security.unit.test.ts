/**
 * The security variables: what each combination means, every refusal named at once, PEM files read and checked at
 * start (missing, not PEM, a key that is not the certificate's), and nothing secret in a redacted URL.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadCassandraSecurity, loadKafkaSecurity, loadRedisConnection, redactedUrl } from '../src/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CERT = fixture('client.pem');
const KEY = fixture('client.key');
const OTHER_KEY = fixture('other.key');
const pem = (file: string) => readFileSync(file, 'utf8');

const kafkaProblems = (env: Record<string, string>) => loadKafkaSecurity(env).problems;
const cassandraProblems = (env: Record<string, string>) => loadCassandraSecurity(env).problems;
const redisProblems = (env: Record<string, string>) => loadRedisConnection(env).problems;

const names = (problems: string[]) => problems.map((p) => p.split(':')[0]);

describe('env-config security', function () {
  describe('Kafka', function () {
    it('is plaintext with nothing set', function () {
      assert.deepEqual(loadKafkaSecurity({}), { value: {}, problems: [] });
    });

    it('SASL_SSL with SCRAM-SHA-512, the system CAs', function () {
      const env = {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'collab',
        KAFKA_SASL_PASSWORD: 's3cret',
      };
      assert.deepEqual(loadKafkaSecurity(env), {
        value: { tls: {}, sasl: { mechanism: 'scram-sha-512', username: 'collab', password: 's3cret' } },
        problems: [],
      });
    });

    it('SSL with a CA and a client certificate (mTLS), read from the files', function () {
      const env = {
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        KAFKA_TLS_CA_FILE: CERT,
        KAFKA_TLS_CERT_FILE: CERT,
        KAFKA_TLS_KEY_FILE: KEY,
      };
      assert.deepEqual(loadKafkaSecurity(env), {
        value: { tls: { ca: pem(CERT), cert: pem(CERT), key: pem(KEY) } },
        problems: [],
      });
    });

    it('refuses every inconsistency at once', function () {
      assert.deepEqual(
        names(kafkaProblems({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-1' })),
        ['KAFKA_SASL_MECHANISM'],
        'an unknown mechanism',
      );
      assert.deepEqual(kafkaProblems({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }), [
        'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
      ]);
      assert.deepEqual(names(kafkaProblems({ KAFKA_SASL_USERNAME: 'u', KAFKA_TLS_CA_FILE: CERT })), [
        'KAFKA_TLS_CA_FILE',
        'KAFKA_SASL_USERNAME',
      ]);
      assert.match(
        kafkaProblems({
          KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
          KAFKA_SASL_MECHANISM: 'PLAIN',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD: 'p',
        }).join('\n'),
        /PLAIN over SASL_PLAINTEXT sends the password in clear/,
      );
      assert.deepEqual(names(kafkaProblems({ KAFKA_SECURITY_PROTOCOL: 'TLS' })), ['KAFKA_SECURITY_PROTOCOL']);
    });

    it('checks the PEM files at start: missing, not PEM, half a client certificate, a key of another', function () {
      const problems = (files: Record<string, string>) =>
        loadKafkaSecurity({ KAFKA_SECURITY_PROTOCOL: 'SSL', ...files }).problems;
      assert.match(problems({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }).join(), /cannot read \/nonexistent\/ca.pem/);
      assert.match(problems({ KAFKA_TLS_CA_FILE: fixture('README.md') }).join(), /is not PEM/);
      assert.match(problems({ KAFKA_TLS_CA_FILE: KEY }).join(), /KAFKA_TLS_CA_FILE: .* does not parse/);
      assert.deepEqual(names(problems({ KAFKA_TLS_CERT_FILE: CERT })), ['KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE']);
      assert.deepEqual(problems({ KAFKA_TLS_CERT_FILE: CERT, KAFKA_TLS_KEY_FILE: OTHER_KEY }), [
        'KAFKA_TLS_KEY_FILE: the key does not belong to the certificate in KAFKA_TLS_CERT_FILE',
      ]);
    });
  });

  describe('Cassandra', function () {
    it('a user and password, with TLS and a private CA', function () {
      const env = {
        CASSANDRA_USERNAME: 'collab',
        CASSANDRA_PASSWORD: 'pw',
        CASSANDRA_TLS: 'true',
        CASSANDRA_TLS_CA_FILE: CERT,
      };
      assert.deepEqual(loadCassandraSecurity(env), {
        value: { credentials: { username: 'collab', password: 'pw' }, tls: { ca: pem(CERT) } },
        problems: [],
      });
      assert.deepEqual(loadCassandraSecurity({}), { value: {}, problems: [] });
    });

    it('refuses half the credentials, and TLS files without CASSANDRA_TLS=true', function () {
      assert.deepEqual(names(cassandraProblems({ CASSANDRA_USERNAME: 'u', CASSANDRA_TLS_CA_FILE: CERT })), [
        'CASSANDRA_USERNAME and CASSANDRA_PASSWORD',
        'CASSANDRA_TLS_CA_FILE',
      ]);
      assert.deepEqual(names(cassandraProblems({ CASSANDRA_TLS: 'yes' })), ['CASSANDRA_TLS']);
    });
  });

  describe('Redis', function () {
    it('redis:// with an ACL user; rediss:// with a private CA', function () {
      assert.deepEqual(loadRedisConnection({ REDIS_URL: 'redis://presence:pw@r1:6379/0' }), {
        value: { url: 'redis://presence:pw@r1:6379/0' },
        problems: [],
      });
      assert.deepEqual(loadRedisConnection({ REDIS_URL: 'rediss://r1:6380', REDIS_TLS_CA_FILE: CERT }), {
        value: { url: 'rediss://r1:6380', tls: { ca: pem(CERT) } },
        problems: [],
      });
      assert.deepEqual(loadRedisConnection({}), { value: undefined, problems: [] });
    });

    it('refuses other schemes, paths, query options, and TLS files on redis://', function () {
      for (const url of ['http://r1:6379', 'redis://r1:6379/x', 'redis://r1?tls=false', 'not a url', 'redis://']) {
        assert.deepEqual(names(redisProblems({ REDIS_URL: url })), ['REDIS_URL'], url);
      }
      assert.deepEqual(names(redisProblems({ REDIS_URL: 'redis://r1', REDIS_TLS_CA_FILE: CERT })), [
        'REDIS_TLS_CA_FILE',
      ]);
    });

    it('redacts the password of a URL', function () {
      assert.equal(redactedUrl('rediss://presence:s3cret@r1:6380/0'), 'rediss://presence:***@r1:6380/0');
      assert.equal(redactedUrl('redis://r1:6379'), 'redis://r1:6379');
    });
  });
});
