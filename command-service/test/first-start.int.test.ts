/**
 * A first-time operator's path, with the defaults: the storage is created by `npm run infra:up`'s provisioning or
 * by `collab migrate --mode distributed`, then a command-service process is started with nothing but the
 * brokers, the topic names and a secret — no COLLAB_OPS_PARTITIONS, no COLLAB_PROVISION. It must start.
 * Before: infra made 6 partitions where the services expected 12, and neither made the commands and replies
 * topics, so the command-service refused to start on either.
 * Fresh topic names (and keyspace, bucket) per test: the shared stack's own topics are never touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@collab/adapter-s3';
import { provision, provisionOptionsFromEnv, useStack } from '@collab/infra';
import type { StackEndpoints } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { ServiceProcess } from './support/processes.js';
import { SECRET } from './support/service.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function freshNames() {
  const id = randomBytes(4).toString('hex');
  return {
    COLLAB_OPS_TOPIC: `first.ops.${id}`,
    COLLAB_COMMANDS_TOPIC: `first.commands.${id}`,
    COLLAB_REPLIES_TOPIC: `first.replies.${id}`,
    CASSANDRA_KEYSPACE: `first_${id}`,
    S3_BUCKET: `collab-first-${id}`,
  };
}

/** The command-service as an operator starts it, with the defaults for everything but where things are. */
function startCommandService(stack: StackEndpoints, names: ReturnType<typeof freshNames>): Promise<ServiceProcess> {
  return ServiceProcess.spawn('command-service', ['command-service/src/main.ts'], {
    PATH: process.env.PATH ?? '',
    KAFKA_BROKERS: stack.kafka.brokers.join(','),
    COLLAB_OPS_TOPIC: names.COLLAB_OPS_TOPIC,
    COLLAB_COMMANDS_TOPIC: names.COLLAB_COMMANDS_TOPIC,
    COLLAB_REPLIES_TOPIC: names.COLLAB_REPLIES_TOPIC,
    COLLAB_JWT_SECRET: SECRET,
    COLLAB_HOST: '127.0.0.1',
    COLLAB_PORT: '0',
    COLLAB_METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  });
}

async function stopCleanly(service: ServiceProcess): Promise<void> {
  service.kill('SIGTERM');
  const { code } = await service.exited;
  const { signal } = await service.exited;
  assert.equal(code, 0, `exit code after SIGTERM (signal ${signal}):\n${service.lines.slice(-10).join('\n')}`);
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@collab/source', '--import', 'tsx', 'cli/src/main.ts', ...args],
      { cwd: REPO, env },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe("a first-time operator's path: create the storage, start a command-service with the defaults", function () {
  this.timeout(180_000);
  let stack: StackEndpoints;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    stack = await useStack();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('after `npm run infra:up`’s provisioning', async () => {
    const names = freshNames();
    // What infra:up runs, with the defaults it takes from the environment (the topic names aside).
    await provision(stack, {
      ...provisionOptionsFromEnv({}),
      opsTopic: names.COLLAB_OPS_TOPIC,
      commandsTopic: names.COLLAB_COMMANDS_TOPIC,
      repliesTopic: names.COLLAB_REPLIES_TOPIC,
    });
    const service = await startCommandService(stack, names);
    await stopCleanly(service);
  });

  it('after `collab migrate --mode distributed`', async () => {
    const names = freshNames();
    const cql = new cassandra.Client({
      contactPoints: stack.cassandra.contactPoints,
      localDataCenter: stack.cassandra.localDataCenter,
    });
    cleanups.push(async () => {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${names.CASSANDRA_KEYSPACE}`);
      await cql.shutdown();
    });
    const credentials = { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey };
    cleanups.push(async () => {
      const s3 = createS3Client({ endpoint: stack.s3.endpoint, region: stack.s3.region, credentials });
      await s3.send(new DeleteBucketCommand({ Bucket: names.S3_BUCKET })).finally(() => s3.destroy());
    });
    const migrated = await runCli(['migrate', '--mode', 'distributed'], {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: stack.kafka.brokers.join(','),
      CASSANDRA_CONTACT_POINTS: stack.cassandra.contactPoints.join(','),
      CASSANDRA_LOCAL_DC: stack.cassandra.localDataCenter,
      S3_ENDPOINT: stack.s3.endpoint,
      S3_REGION: stack.s3.region,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...names,
    });
    assert.equal(migrated.code, 0, migrated.output);
    assert.match(migrated.output, new RegExp(`${names.COLLAB_COMMANDS_TOPIC}.*${names.COLLAB_REPLIES_TOPIC}`));
    const service = await startCommandService(stack, names);
    await stopCleanly(service);
  });
});
