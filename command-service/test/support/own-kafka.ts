/**
 * A single-node Kafka container of a test's own (from the locally built image, never pulled) that the test may
 * freeze with `docker pause`: the shared stack's containers are never paused, other suites run against them.
 * It advertises a host port chosen before it starts, so clients reach it on 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { KAFKA_SINGLE_NODE_ENV, freePort } from '@collab/infra';
import { until } from './processes.js';

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args, { timeout: 60_000 })).stdout.trim();

export interface OwnKafka {
  brokers: string[];
  pause(): Promise<void>;
  unpause(): Promise<void>;
  remove(): Promise<void>;
}

export async function startOwnKafka(label: string): Promise<OwnKafka> {
  const images = await docker('images', '--format', '{{.Repository}}:{{.Tag}}', 'collab/kafka');
  const image = images.split('\n').find((l) => l.startsWith('collab/kafka:3.'));
  if (image === undefined) throw new Error('no local collab/kafka:3.x image (npm run infra:images builds it)');
  const port = await freePort();
  const name = `collab-test-kafka-${randomBytes(4).toString('hex')}`;
  const env = {
    ...KAFKA_SINGLE_NODE_ENV,
    KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093',
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
  };
  const id = await docker(
    'run',
    '-d',
    '--pull',
    'never',
    '--name',
    name,
    '--label',
    `collab.test=${label}`,
    '-p',
    `127.0.0.1:${port}:9092`,
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    image,
  );
  let paused = false;
  const remove = async () => {
    await docker('rm', '-f', '-v', id).catch(() => '');
  };
  try {
    await until(
      'the test Kafka to start',
      async () => {
        const logs = await run('docker', ['logs', id]).catch(() => ({ stdout: '', stderr: '' }));
        return `${logs.stdout}${logs.stderr}`.includes('Kafka Server started') ? true : undefined;
      },
      120_000,
      500,
    );
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    brokers: [`127.0.0.1:${port}`],
    async pause() {
      await docker('pause', id);
      paused = true;
    },
    async unpause() {
      if (paused) await docker('unpause', id);
      paused = false;
    },
    remove,
  };
}
