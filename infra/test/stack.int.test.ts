/**
 * The harness itself, against whatever stack this run uses (containers or given endpoints): every server
 * answers a real client request, provisioning is idempotent, and a dead endpoint fails fast and by name.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { HeadBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import cassandra from 'cassandra-driver';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { requireSchemaRegistry, type StackEndpoints } from '../src/endpoints.js';
import { checkEndpoints, s3Client } from '../src/probes.js';
import { provision, provisionOptionsFromEnv } from '../src/provision.js';
import { useStack } from '../src/stack.js';

/** A test's own ops topic and command bus topics, so it never touches the stack's shared ones. */
function testTopics(opsTopic: string): { opsTopic: string; commandsTopic: string; repliesTopic: string } {
  return { opsTopic, commandsTopic: `${opsTopic}.commands`, repliesTopic: `${opsTopic}.replies` };
}

/** A 127.0.0.1 port nothing listens on: bind an ephemeral port, then close it. */
/**
 * Topic metadata, asked again while a broker does not know the topics yet: on a three-broker stack
 * (COLLAB_STACK_KAFKA=cluster) the broker asked may lag the controller by a moment after they were created.
 */
async function metadataOf(client: Admin, topics: string[]): ReturnType<Admin['fetchTopicMetadata']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.fetchTopicMetadata({ topics });
    } catch (err) {
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 25) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('integration stack (infra harness)', () => {
  let endpoints: StackEndpoints;

  before(async () => {
    endpoints = await useStack();
  });

  it('is the same stack for every caller in the run', async () => {
    assert.equal(await useStack(), endpoints);
  });

  it('Kafka: the admin client lists topics, including the provisioned ops topic', async () => {
    const admin = new Kafka({
      clientId: 'infra-test',
      brokers: endpoints.kafka.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      assert.ok(topics.includes(provisionOptionsFromEnv(process.env).opsTopic), `topics: ${topics.join(', ')}`);
      const [config] = (
        await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: 2, name: provisionOptionsFromEnv(process.env).opsTopic, configNames: ['retention.ms'] }],
        })
      ).resources;
      assert.equal(config?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue, '-1');
    } finally {
      await admin.disconnect();
    }
  });

  it('Cassandra: answers CQL', async () => {
    const client = new cassandra.Client({
      contactPoints: endpoints.cassandra.contactPoints,
      localDataCenter: endpoints.cassandra.localDataCenter,
    });
    try {
      const rs = await client.execute('SELECT release_version FROM system.local');
      assert.match(String(rs.first()?.get('release_version')), /^\d+\.\d+/);
    } finally {
      await client.shutdown();
    }
  });

  it('S3: ListBuckets includes the provisioned bucket', async () => {
    const client = s3Client(endpoints.s3);
    try {
      const out = await client.send(new ListBucketsCommand({}));
      const bucket = provisionOptionsFromEnv(process.env).bucket;
      assert.ok(
        out.Buckets?.some((b) => b.Name === bucket),
        `buckets: ${JSON.stringify(out.Buckets)}`,
      );
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
  });

  it('Redis: PING', async () => {
    const redis = new Redis(endpoints.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      assert.equal(await redis.ping(), 'PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('provisioning twice is idempotent: the second run finds everything in place', async () => {
    const topic = `infra-test-${Date.now()}`;
    const options = { ...provisionOptionsFromEnv(process.env), ...testTopics(topic), opsPartitions: 3 };
    const options2 = { ...options, bucket: `infra-test-${Date.now()}` };
    const first = await provision(endpoints, options2);
    assert.equal(first.opsTopic, 'created');
    assert.equal(first.bucket, 'created');
    const second = await provision(endpoints, options2);
    assert.equal(second.opsTopic, 'exists');
    assert.equal(second.bucket, 'exists');
    assert.equal(first.cassandra, 'migrated');
    assert.equal(second.cassandra, 'migrated');
  });

  it('provisions the command-service’s commands and replies topics beside the ops topic', async () => {
    const options = { ...provisionOptionsFromEnv(process.env), ...testTopics(`infra-test-c-${Date.now()}`) };
    await provision(endpoints, { ...options, opsPartitions: 3 });
    const admin = new Kafka({ clientId: 'infra-test', brokers: endpoints.kafka.brokers, logLevel: logLevel.NOTHING });
    const client = admin.admin();
    await client.connect();
    try {
      const { topics } = await metadataOf(client, [options.commandsTopic, options.repliesTopic]);
      const count = (name: string) => topics.find((t) => t.name === name)?.partitions.length;
      assert.equal(count(options.commandsTopic), 3, 'commands: the ops topic’s partition count');
      assert.equal(count(options.repliesTopic), 1);
    } finally {
      await client.disconnect();
    }
  });

  it('provisions replication factor min(3, brokers): 3 with COLLAB_STACK_KAFKA=cluster, 1 on one broker', async () => {
    const options = { ...provisionOptionsFromEnv(process.env), ...testTopics(`infra-test-r-${Date.now()}`) };
    await provision(endpoints, { ...options, opsPartitions: 3 });
    const admin = new Kafka({ clientId: 'infra-test', brokers: endpoints.kafka.brokers, logLevel: logLevel.NOTHING });
    const client = admin.admin();
    await client.connect();
    try {
      const live = (await client.describeCluster()).brokers.length;
      const { topics } = await metadataOf(client, [options.opsTopic, options.commandsTopic]);
      for (const t of topics) {
        for (const p of t.partitions) assert.equal(p.replicas.length, Math.min(3, live), `${t.name}/${p.partitionId}`);
      }
    } finally {
      await client.disconnect();
    }
  });

  it('provisioning refuses to "fix" an existing topic with another partition count', async () => {
    const options = {
      ...provisionOptionsFromEnv(process.env),
      ...testTopics(`infra-test-p-${Date.now()}`),
      opsPartitions: 2,
    };
    await provision(endpoints, options);
    await assert.rejects(provision(endpoints, { ...options, opsPartitions: 4 }), /exists with 2 partitions, not 4/);
  });

  it('an unreachable endpoint gives a clear error naming it, within the bounded time', async () => {
    const deadPort = await closedPort();
    const broken: StackEndpoints = { ...endpoints, redis: { url: `redis://127.0.0.1:${deadPort}` } };
    const started = Date.now();
    await assert.rejects(checkEndpoints(broken, 3000), (err: Error) => {
      assert.match(err.message, new RegExp(`redis \\(REDIS_URL=redis://127\\.0\\.0\\.1:${deadPort}\\)`));
      assert.doesNotMatch(err.message, /kafka \(|cassandra \(|s3 \(/, 'only the broken endpoint is named');
      return true;
    });
    assert.ok(Date.now() - started < 3000 + 2000, `took ${Date.now() - started} ms`);
  });

  it('Schema registry: the Confluent API answers (GET /subjects is a JSON array)', async () => {
    const registry = requireSchemaRegistry(endpoints);
    const response = await fetch(`${registry.url}/subjects`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200);
    assert.ok(Array.isArray(await response.json()));
  });

  it('every endpoint unreachable: each is named', async () => {
    const p = await closedPort();
    const dead: StackEndpoints = {
      mode: 'external',
      kafka: { brokers: [`127.0.0.1:${p}`] },
      cassandra: { contactPoints: [`127.0.0.1:${p}`], localDataCenter: 'datacenter1' },
      s3: { ...endpoints.s3, endpoint: `http://127.0.0.1:${p}` },
      redis: { url: `redis://127.0.0.1:${p}` },
      schemaRegistry: { url: `http://127.0.0.1:${p}/apis/ccompat/v6` },
    };
    await assert.rejects(checkEndpoints(dead, 2000), (err: Error) => {
      for (const name of [
        'KAFKA_BROKERS',
        'CASSANDRA_CONTACT_POINTS',
        'S3_ENDPOINT',
        'REDIS_URL',
        'SCHEMA_REGISTRY_URL',
      ]) {
        assert.ok(err.message.includes(`${name}=`), `${name} missing from: ${err.message}`);
      }
      return true;
    });
  });
});
