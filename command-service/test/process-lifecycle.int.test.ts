/**
 * The service processes as an operator runs them, started and stopped for real:
 *  - a command-service whose start fails (here: the topic has another partition count) exits 1 with the reason,
 *    and its metrics port is free again — through its main.ts and through `collab serve --mode distributed`
 *    (which used to print the error and keep running, holding the port);
 *  - every service stops within its shutdown deadline on SIGTERM whatever its backends do: the three services
 *    run against a Kafka of this test's own, which is frozen (`docker pause`), and S3 behind a forwarder that
 *    stops answering, then get SIGTERM (a snapshot-service in that state used to run on for minutes).
 * The shared stack's containers are never paused: other suites use them.
 */
import assert from 'node:assert/strict';
import { freePort } from '@collab/infra';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { ensureCommandTopics, ensureOpsTopic } from '@collab/adapter-kafka';
import { Kafka } from 'kafkajs';
import { startFreezableProxy, type FreezableProxy } from './support/freezable-proxy.js';
import { startOwnKafka, type OwnKafka } from './support/own-kafka.js';
import { freshTopics, ServiceProcess } from './support/processes.js';
import type { TestReadSide } from './support/read-side.js';
import { freshReadSide } from './support/read-side.js';
import { SECRET } from './support/service.js';

/** How long a test waits for an exit it expects: far below the minutes a hung process would take. */
const EXIT_BOUND_MS = 20_000;

/** Resolves when `port` can be bound on 127.0.0.1 again (and frees it), rejects with the bind error. */
async function bindable(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
}

/** The process's exit, or a failure naming it if it is still running after `ms`. */
async function exitWithin(
  service: ServiceProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      service.kill('SIGKILL');
      reject(new Error(`${service.name} still running ${ms} ms later:\n${service.lines.slice(-15).join('\n')}`));
    }, ms);
  });
  try {
    return await Promise.race([service.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('service processes: a failed start exits and frees its ports; a stop is bounded', function () {
  this.timeout(240_000);

  describe('a command-service whose start fails', () => {
    for (const [how, entry] of [
      ['main.ts', ['command-service/src/main.ts']],
      ['collab serve --mode distributed', ['cli/src/main.ts', 'serve', '--mode', 'distributed']],
    ] as const) {
      it(`exits 1 saying why and releases its metrics port (${how})`, async () => {
        const t = await freshTopics(2);
        const metricsPort = await freePort();
        const service = ServiceProcess.launch('command-service', [...entry], {
          PATH: process.env.PATH ?? '',
          KAFKA_BROKERS: t.brokers.join(','),
          COLLAB_OPS_TOPIC: t.topic,
          COLLAB_OPS_PARTITIONS: '3', // the topic has 2
          COLLAB_COMMANDS_TOPIC: t.commandsTopic,
          COLLAB_REPLIES_TOPIC: t.repliesTopic,
          COLLAB_JWT_SECRET: SECRET,
          COLLAB_HOST: '127.0.0.1',
          COLLAB_PORT: '0',
          COLLAB_METRICS_PORT: String(metricsPort),
          LOG_LEVEL: 'warn',
        });
        const { code } = await exitWithin(service, EXIT_BOUND_MS);
        assert.equal(code, 1, service.lines.join('\n'));
        const output = service.lines.join('\n');
        assert.match(output, /failed to start: ERR_INVALID_ARGUMENT: .*2 partitions but partitionCount is 3/);
        await bindable(metricsPort);
      });
    }
  });

  describe('on SIGTERM after the backends went away (own Kafka paused, S3 not answering)', () => {
    let kafka: OwnKafka | undefined;
    let s3: FreezableProxy | undefined;
    let readSide: TestReadSide | undefined;
    const services: ServiceProcess[] = [];
    const SHUTDOWN_TIMEOUT_MS = 3_000;

    before(async () => {
      kafka = await startOwnKafka('process-lifecycle');
      readSide = await freshReadSide();
      const s3Url = new URL(readSide.env.S3_ENDPOINT!);
      s3 = await startFreezableProxy({ host: s3Url.hostname, port: Number(s3Url.port) });
      const topic = `lifecycle.ops.${randomBytes(4).toString('hex')}`;
      const admin = new Kafka({ clientId: 'lifecycle-admin', brokers: kafka.brokers, logLevel: 0 }).admin();
      await admin.connect();
      try {
        await ensureOpsTopic(admin, { topic, partitions: 2, replicationFactor: 1 });
        await ensureCommandTopics(admin, {
          commandsTopic: `${topic}.commands`,
          repliesTopic: `${topic}.replies`,
          partitions: 2,
          replicationFactor: 1,
        });
      } finally {
        await admin.disconnect();
      }
      const common = {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: kafka.brokers.join(','),
        COLLAB_OPS_TOPIC: topic,
        COLLAB_OPS_PARTITIONS: '2',
        COLLAB_METRICS_PORT: '0',
        COLLAB_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      };
      const started = await Promise.all([
        ServiceProcess.spawn('command-service', ['command-service/src/main.ts'], {
          ...common,
          COLLAB_COMMANDS_TOPIC: `${topic}.commands`,
          COLLAB_REPLIES_TOPIC: `${topic}.replies`,
          COLLAB_JWT_SECRET: SECRET,
          COLLAB_HOST: '127.0.0.1',
          COLLAB_PORT: '0',
          COLLAB_SERVE_PAGE: 'false',
        }),
        ServiceProcess.spawn('projection-service', ['projection-service/src/main.ts'], {
          ...common,
          ...readSide.env,
          COLLAB_PROJECTION_GROUP: `${topic}-projection`,
        }),
        ServiceProcess.spawn('snapshot-service', ['snapshot-service/src/main.ts'], {
          ...common,
          ...readSide.env,
          S3_ENDPOINT: `http://${s3.address}`,
          COLLAB_SNAPSHOT_CONSUMER_GROUP: `${topic}-snapshot`,
        }),
      ]);
      services.push(...started);
    });

    after(async () => {
      for (const service of services) service.kill('SIGKILL');
      await kafka?.unpause().catch(() => {});
      await kafka?.remove();
      await s3?.close();
      await readSide?.close();
    });

    it('every service exits within COLLAB_SHUTDOWN_TIMEOUT_MS, non-zero and saying so when it could not close', async () => {
      await kafka!.pause();
      s3!.freeze();
      for (const service of services) service.kill('SIGTERM');
      const exits = await Promise.all(services.map((service) => exitWithin(service, EXIT_BOUND_MS)));
      services.forEach((service, i) => {
        const { code } = exits[i]!;
        const output = service.lines.join('\n');
        assert.ok(code === 0 || code === 1, `${service.name}: exit code ${code}\n${output}`);
        if (code === 1) assert.match(output, /shutdown deadline passed/, `${service.name} says why it exited 1`);
      });
    });
  });
});
