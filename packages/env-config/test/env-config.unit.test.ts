/** The shared environment fragments: what each variable accepts, and the cross-variable S3 check. */
import assert from 'node:assert/strict';

import { z } from 'zod';

import {
  cassandraEnv,
  DEFAULT_OPS_PARTITIONS,
  edgeEnv,
  opsTopicEnv,
  s3Credentials,
  s3Env,
  s3Problems,
  serviceEnv,
} from '../src/index.js';

const Env = z.object({ ...serviceEnv(9999), ...opsTopicEnv, ...cassandraEnv, ...s3Env });
const problems = (env: Record<string, string>) => {
  const parsed = Env.safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('env-config', function () {
  it('gives every default, and splits host lists', function () {
    const e = Env.parse({ KAFKA_BROKERS: ' a:1, b:2 ,', CASSANDRA_CONTACT_POINTS: 'c:3' });
    assert.deepEqual(e.KAFKA_BROKERS, ['a:1', 'b:2']);
    assert.equal(e.COLLAB_METRICS_PORT, 9999);
    assert.equal(e.COLLAB_OPS_TOPIC, 'collab.ops');
    assert.equal(e.COLLAB_OPS_PARTITIONS, DEFAULT_OPS_PARTITIONS);
    assert.equal(e.CASSANDRA_KEYSPACE, 'collab');
    assert.equal(e.LOG_LEVEL, 'info');
    assert.equal(e.S3_BUCKET, 'collab-snapshots');
  });

  it('refuses every bad variable at once, an upper-case keyspace included', function () {
    assert.deepEqual(
      problems({
        KAFKA_BROKERS: ' , ',
        CASSANDRA_CONTACT_POINTS: 'c:3',
        CASSANDRA_KEYSPACE: 'Collab',
        COLLAB_OPS_PARTITIONS: '0',
        COLLAB_METRICS_PORT: '70000',
        LOG_LEVEL: 'loud',
        S3_ENDPOINT: 'not a url',
      }).sort(),
      [
        'CASSANDRA_KEYSPACE',
        'COLLAB_METRICS_PORT',
        'COLLAB_OPS_PARTITIONS',
        'KAFKA_BROKERS',
        'LOG_LEVEL',
        'S3_ENDPOINT',
      ],
    );
  });

  it('S3 keys: both or neither', function () {
    assert.deepEqual(s3Problems({ S3_ACCESS_KEY_ID: 'k' }).length, 1);
    assert.deepEqual(s3Problems({ S3_SECRET_ACCESS_KEY: 's' }).length, 1);
    assert.deepEqual(s3Problems({ S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }), []);
    assert.deepEqual(s3Problems({}), []);
    assert.deepEqual(s3Credentials({ S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }), {
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    assert.deepEqual(s3Credentials({ S3_ACCESS_KEY_ID: 'k' }), {});
  });

  it('edge: allow-lists of hosts and origins (or *), caps and the auth deadline, with their defaults', function () {
    const Edge = z.object(edgeEnv);
    const e = Edge.parse({
      COLLAB_ALLOWED_HOSTS: 'collab.example.com, edge.internal:9000, [::1]:8080,',
      COLLAB_ALLOWED_ORIGINS: 'https://collab.example.com,http://localhost:5173',
    });
    assert.deepEqual(e.COLLAB_ALLOWED_HOSTS, ['collab.example.com', 'edge.internal:9000', '[::1]:8080']);
    assert.deepEqual(e.COLLAB_ALLOWED_ORIGINS, ['https://collab.example.com', 'http://localhost:5173']);
    assert.equal(e.COLLAB_MAX_CONNECTIONS, 10_000);
    assert.equal(e.COLLAB_MAX_CONNECTIONS_PER_IP, 256);
    assert.equal(e.COLLAB_AUTH_TIMEOUT_MS, 10_000);
    assert.equal(Edge.parse({}).COLLAB_ALLOWED_HOSTS, undefined);
    assert.deepEqual(Edge.parse({ COLLAB_ALLOWED_HOSTS: '*' }).COLLAB_ALLOWED_HOSTS, ['*']);
    const refused = Edge.safeParse({
      COLLAB_ALLOWED_HOSTS: 'https://collab.example.com',
      COLLAB_ALLOWED_ORIGINS: 'https://collab.example.com/',
      COLLAB_MAX_CONNECTIONS: '0',
      COLLAB_MAX_CONNECTIONS_PER_IP: 'many',
      COLLAB_AUTH_TIMEOUT_MS: '10',
    });
    assert.equal(refused.success, false);
    assert.deepEqual(refused.error?.issues.map((i) => i.path.join('.')).sort(), [
      'COLLAB_ALLOWED_HOSTS',
      'COLLAB_ALLOWED_ORIGINS',
      'COLLAB_AUTH_TIMEOUT_MS',
      'COLLAB_MAX_CONNECTIONS',
      'COLLAB_MAX_CONNECTIONS_PER_IP',
    ]);
    assert.equal(Edge.safeParse({ COLLAB_ALLOWED_HOSTS: ' , ' }).success, false);
  });
});
