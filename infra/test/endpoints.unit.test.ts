/** Which stack a run uses, from the environment alone: all, none or some endpoint variables given. */
import assert from 'node:assert/strict';
import { chooseStack, harnessTimeouts, stackJit, stackKafka } from '../src/config.js';
import { newKafkaClusterId } from '../src/kafka-cluster.js';
import { endpointsFromEnv, endpointsToEnv, requireSchemaRegistry } from '../src/endpoints.js';

const ALL = {
  KAFKA_BROKERS: '127.0.0.1:29092, 127.0.0.1:29093',
  CASSANDRA_CONTACT_POINTS: '127.0.0.1:29042',
  S3_ENDPOINT: 'http://127.0.0.1:29080',
  REDIS_URL: 'redis://127.0.0.1:29379',
};

describe('endpointsFromEnv', () => {
  it('all four given: external endpoints, lists split and trimmed, defaults for the optional ones', () => {
    assert.deepEqual(endpointsFromEnv(ALL), {
      mode: 'external',
      kafka: { brokers: ['127.0.0.1:29092', '127.0.0.1:29093'] },
      cassandra: { contactPoints: ['127.0.0.1:29042'], localDataCenter: 'datacenter1' },
      s3: {
        endpoint: 'http://127.0.0.1:29080',
        region: 'us-east-1',
        accessKeyId: 'collab',
        secretAccessKey: 'collab-secret',
      },
      redis: { url: 'redis://127.0.0.1:29379' },
    });
  });

  it('optional variables override the defaults', () => {
    const e = endpointsFromEnv({
      ...ALL,
      CASSANDRA_LOCAL_DC: 'dc-eu',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
    });
    assert.equal(e?.cassandra.localDataCenter, 'dc-eu');
    assert.deepEqual(e?.s3, { endpoint: ALL.S3_ENDPOINT, region: 'eu-west-1', accessKeyId: 'k', secretAccessKey: 's' });
  });

  it('none given (or only empty strings): undefined, so containers are started', () => {
    assert.equal(endpointsFromEnv({}), undefined);
    assert.equal(endpointsFromEnv({ KAFKA_BROKERS: '', REDIS_URL: '' }), undefined);
  });

  it('some given: an error naming the given and the missing ones', () => {
    assert.throws(
      () => endpointsFromEnv({ KAFKA_BROKERS: ALL.KAFKA_BROKERS, REDIS_URL: ALL.REDIS_URL }),
      /given for KAFKA_BROKERS, REDIS_URL but not for CASSANDRA_CONTACT_POINTS, S3_ENDPOINT/,
    );
  });
});

describe('chooseStack (COLLAB_STACK)', () => {
  it('defaults to local images', () => {
    assert.deepEqual(chooseStack({}), { source: 'local' });
  });

  it('is external automatically when the endpoint variables are set', () => {
    const choice = chooseStack(ALL);
    assert.equal(choice.source, 'external');
  });

  it('an explicit local or public wins over endpoint variables', () => {
    assert.deepEqual(chooseStack({ ...ALL, COLLAB_STACK: 'public' }), { source: 'public' });
    assert.deepEqual(chooseStack({ ...ALL, COLLAB_STACK: 'local' }), { source: 'local' });
  });

  it('external without the variables, or an unknown value, is an error', () => {
    assert.throws(() => chooseStack({ COLLAB_STACK: 'external' }), /needs KAFKA_BROKERS/);
    assert.throws(() => chooseStack({ COLLAB_STACK: 'docker' }), /not one of local, public, external/);
  });
});

describe('harnessTimeouts', () => {
  it('has bounded defaults and validates overrides', () => {
    assert.deepEqual(harnessTimeouts({}), { startupMs: 120_000, probeMs: 20_000 });
    assert.equal(harnessTimeouts({ COLLAB_STACK_STARTUP_TIMEOUT_MS: '5000' }).startupMs, 5000);
    assert.throws(() => harnessTimeouts({ COLLAB_STACK_PROBE_TIMEOUT_MS: 'soon' }), /not a positive integer/);
  });
});

describe('stackJit (COLLAB_STACK_JIT)', () => {
  it('is fast (C1 only) by default, full on request, and refuses anything else', () => {
    assert.equal(stackJit({}), 'fast');
    assert.equal(stackJit({ COLLAB_STACK_JIT: 'fast' }), 'fast');
    assert.equal(stackJit({ COLLAB_STACK_JIT: 'full' }), 'full');
    assert.throws(() => stackJit({ COLLAB_STACK_JIT: 'c2' }), /not one of fast, full/);
  });
});

describe('stackKafka (COLLAB_STACK_KAFKA)', () => {
  it('is one broker by default, three on request, and refuses anything else', () => {
    assert.equal(stackKafka({}, 'local'), 'single');
    assert.equal(stackKafka({ COLLAB_STACK_KAFKA: 'single' }, 'local'), 'single');
    assert.equal(stackKafka({ COLLAB_STACK_KAFKA: 'cluster' }, 'public'), 'cluster');
    assert.throws(() => stackKafka({ COLLAB_STACK_KAFKA: '3' }, 'local'), /not one of single, cluster/);
  });
  it('refuses a cluster with external endpoints (their brokers are KAFKA_BROKERS)', () => {
    assert.throws(() => stackKafka({ COLLAB_STACK_KAFKA: 'cluster' }, 'external'), /KAFKA_BROKERS/);
    assert.equal(stackKafka({}, 'external'), 'single');
  });
  it('gives each cluster a KRaft cluster id of 22 base64url characters (16 bytes), never starting with -', () => {
    const ids = Array.from({ length: 2000 }, () => newKafkaClusterId());
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('endpointsToEnv', () => {
  it('round-trips through endpointsFromEnv (what infra:up prints is what the tests read)', () => {
    const endpoints = endpointsFromEnv({ ...ALL, CASSANDRA_LOCAL_DC: 'dc1', S3_REGION: 'eu-west-1' })!;
    assert.deepEqual(endpointsFromEnv(endpointsToEnv(endpoints)), endpoints);
  });

  it('round-trips the optional schema registry too', () => {
    const endpoints = endpointsFromEnv({ ...ALL, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:28081/apis/ccompat/v6' })!;
    assert.deepEqual(endpoints.schemaRegistry, { url: 'http://127.0.0.1:28081/apis/ccompat/v6' });
    assert.deepEqual(endpointsFromEnv(endpointsToEnv(endpoints)), endpoints);
  });
});

describe('requireSchemaRegistry', () => {
  it('external endpoints without SCHEMA_REGISTRY_URL: an error naming the variable', () => {
    assert.throws(() => requireSchemaRegistry(endpointsFromEnv(ALL)!), /needs a schema registry.*SCHEMA_REGISTRY_URL/s);
  });
});
