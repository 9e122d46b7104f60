/**
 * Our system as the bench runs it, in processes of its own as in production (see server-process.ts): a
 * command-service, and the projection-service with the snapshot worker in a second process, wired to the real
 * stack (Kafka, Cassandra, S3, Redis; a fresh ops topic per run, a bench keyspace and bucket); or, with
 * --embedded, all of them in one process on SQLite in a temporary folder (as `collab serve` runs them).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createKafkaCommandBus, createKafkaOpLog, ensureCommandTopics, ensureOpsTopic } from '@collab/adapter-kafka';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import { createS3Client, createS3SnapshotStore, ensureBucket } from '@collab/adapter-s3';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import { startCommandService } from '@collab/command-service';
import type { CommandBus, OpLog, PresenceBus, ReadModelStore, SnapshotStore } from '@collab/core';
import { endpointsToEnv, useStack } from '@collab/infra';
import { startProjectionService } from '@collab/projection-service';
import { createDocumentReader } from '@collab/read-side';
import { createSnapshotWorker } from '@collab/snapshot-service';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { stackContainers } from '../resources.js';
import type { ServerHalf } from '../server-child.js';
import { spawnServer, startInProcess, type ServerProcess } from '../server-process.js';
import type { Target } from '../target.js';
import { userConnector } from './users.js';

const SECRET = 'bench-secret-bench-secret-bench-secret!';
const KEYSPACE = process.env.BENCH_KEYSPACE ?? 'collab_bench';
const BUCKET = 'collab-bench';

/** Generous per-connection limits: the bench measures latency, not the flood protection. */
const LIMITS = {
  maxFrameBytes: 256 * 1024,
  maxOpInsertLength: 64 * 1024,
  maxOpComponents: 2048,
  maxDocumentLength: 16 * 1024 * 1024,
  maxDocuments: 64,
  maxUnacked: 256,
  opsPerSecond: 1000,
  messagesPerSecond: 5000,
};

interface Storage {
  description: string;
  /** Presence: Redis in the distributed mode, the in-process bus in the embedded one. */
  presence: PresenceBus;
  containers: string[];
  /** One OpLog per consumer role (the Kafka adapter's consumers are per client). */
  opLog(role: string): Promise<OpLog>;
  /** The commands and replies topics of several command-service instances (distributed mode only). */
  commandBus?(role: string): Promise<CommandBus>;
  readModels: ReadModelStore;
  snapshots: SnapshotStore;
  close(): Promise<void>;
}

/** `owner`: this process deletes the run's topic when it closes (the one started first and closed last). */
/**
 * The command-service runs as in production (run.ts): a commands topic for forwards, its consumer group for
 * ownership and the relay of the ops topic — with one instance or several.
 */
async function kafkaStorage(partitions: number, run: string, owner: boolean): Promise<Storage> {
  const stack = await useStack();
  const brokers = stack.kafka.brokers;
  const topic = `bench.ops.${run}`;
  const commandTopics = { commandsTopic: `bench.commands.${run}`, repliesTopic: `bench.replies.${run}` };
  const admin = new Kafka({ clientId: 'bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await ensureOpsTopic(admin, { topic, partitions: partitions, replicationFactor: 1 });
  await ensureCommandTopics(admin, { ...commandTopics, partitions, replicationFactor: 1 });
  const buses: CommandBus[] = [];
  const client = new cassandra.Client({
    contactPoints: stack.cassandra.contactPoints,
    localDataCenter: stack.cassandra.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 30_000 },
  });
  await client.connect();
  await migrate(client, { keyspace: KEYSPACE, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
  const readModels = await createCassandraReadModelStore({ client, keyspace: KEYSPACE });
  const s3 = {
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  };
  const s3Client = createS3Client(s3);
  await ensureBucket(s3Client, BUCKET);
  s3Client.destroy();
  const snapshots = createS3SnapshotStore({ ...s3, bucket: BUCKET, prefix: `${topic}/` });
  const logs: OpLog[] = [];
  // The run's own key prefix: presence entries of earlier runs (expired or not) stay out of this one.
  const presence = createRedisPresenceBus({ url: stack.redis.url, keyPrefix: `${topic}:`, connectionName: 'bench' });
  return {
    description: `distributed: Kafka topic ${topic} (${partitions} partitions), Cassandra keyspace ${KEYSPACE}, S3 bucket ${BUCKET}, Redis presence`,
    containers: await stackContainers([
      stack.kafka.brokers[0],
      stack.cassandra.contactPoints[0],
      stack.s3.endpoint,
      stack.redis.url,
    ]),
    presence,
    async opLog(role) {
      const log = await createKafkaOpLog({ brokers, topic, partitionCount: partitions, clientId: `bench-${role}` });
      logs.push(log);
      return log;
    },
    async commandBus(role: string) {
      const bus = await createKafkaCommandBus({
        brokers,
        ...commandTopics,
        partitionCount: partitions,
        clientId: `bench-${role}`,
      });
      buses.push(bus);
      return bus;
    },
    readModels,
    snapshots,
    async close() {
      await Promise.allSettled(buses.map((b) => b.close()));
      await Promise.allSettled(logs.map((l) => l.close()));
      await presence.close();
      await readModels.close();
      await snapshots.close();
      await client.shutdown();
      // The run's topic goes; its rows and snapshots stay under run-unique ids (cheap, and inspectable).
      if (owner) {
        await admin
          .deleteTopics({
            topics: [topic, commandTopics.commandsTopic, commandTopics.repliesTopic],
          })
          .catch(() => {});
      }
      await admin.disconnect();
    },
  };
}

async function sqliteStorage(partitions: number): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), 'collab-bench-'));
  const storage = await createSqliteStorage({ path: join(dir, 'collab.db'), partitionCount: partitions });
  return {
    description: `embedded: SQLite at ${dir} (${partitions} partitions), in-process presence`,
    containers: [],
    presence: storage.presence,
    opLog: () => Promise.resolve(storage.opLog),
    readModels: storage.readModels,
    snapshots: storage.snapshots,
    async close() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CollabServerArgs {
  embedded: boolean;
  partitions: number;
  /** The services this process runs: the command-service, and/or the projection + snapshot worker. */
  roles: ('command' | 'workers')[];
  /** Names the run's topic, groups and key prefixes, shared by its processes. */
  run: string;
  /**
   * Command-service instances of the run: with one, it owns every partition; with several, they share a consumer
   * group and forward submissions through the commands topic, as `collab serve --mode distributed` instances do.
   */
  instances: number;
  /** Which instance this process runs (1-based), for its names. */
  instance?: number;
}

/** The server half, in a child process (server-child.ts). */
export async function startCollabServers(args: CollabServerArgs): Promise<ServerHalf> {
  const { run, roles } = args;
  const storage = args.embedded
    ? await sqliteStorage(args.partitions)
    : await kafkaStorage(args.partitions, run, roles.includes('workers'));
  const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  let stopWorkers = async (): Promise<void> => {};
  if (roles.includes('workers')) {
    const projection = await startProjectionService({
      log: await storage.opLog('projection'),
      store: storage.readModels,
      groupId: `bench-projection-${run}`,
      logger,
      // The projection-service's COLLAB_PROJECTION_BATCH_WAIT_MS, for A/B runs (default: the service's).
      ...(process.env.BENCH_PROJECTION_BATCH_WAIT_MS === undefined
        ? {}
        : { batchWaitMs: Number(process.env.BENCH_PROJECTION_BATCH_WAIT_MS) }),
    });
    const snapshotWorker = createSnapshotWorker({
      log: await storage.opLog('snapshots'),
      groupId: `bench-snapshots-${run}`,
      // The snapshot-service's COLLAB_SNAPSHOT_BATCH_WAIT_MS, for A/B runs (default: the service's).
      ...(process.env.BENCH_SNAPSHOT_BATCH_WAIT_MS === undefined
        ? {}
        : { batchWaitMs: Number(process.env.BENCH_SNAPSHOT_BATCH_WAIT_MS) }),
      reader: createDocumentReader({ readModels: storage.readModels, snapshots: storage.snapshots }),
      snapshots: storage.snapshots,
      logger,
    });
    await snapshotWorker.start();
    stopWorkers = async () => {
      await snapshotWorker.stop();
      await projection.stop();
    };
  }
  const instance = `command-${args.instance ?? 1}`;
  // As deployed (run.ts): a bus whenever the mode is distributed, even with one instance — its relay consumer and
  // ownership by consumer group are part of what an op costs. The embedded mode owns every partition.
  const bus = roles.includes('command') ? await storage.commandBus?.(instance) : undefined;
  if (roles.includes('command') && args.instances > 1 && bus === undefined) {
    throw new Error('several command-service instances need the distributed mode (a commands topic)');
  }
  const service = roles.includes('command')
    ? await startCommandService({
        log: await storage.opLog(instance),
        instanceId: `bench-${instance}`,
        logger,
        host: '127.0.0.1',
        port: 0,
        auth: { hs256Secret: SECRET },
        consumerGroup: `bench-command-${run}`,
        ...(bus === undefined ? { ownAllPartitions: true } : { bus }),
        window: 1000,
        hashEvery: 100,
        limits: LIMITS,
        idleTimeoutSeconds: 60,
        presence: { bus: storage.presence },
        // Every simulated user connects from 127.0.0.1: the per-address cap (256 by default) would refuse most.
        connections: { maxPerAddress: 100_000 },
      })
    : undefined;
  return {
    url: service === undefined ? '' : `ws://127.0.0.1:${service.port}/v1/ws`,
    description: storage.description,
    containers: storage.containers,
    async close() {
      await service?.close();
      await stopWorkers();
      await storage.close();
    },
  };
}

/**
 * A command-service already running elsewhere (`--url`): nothing to start or stop, no process or container of
 * ours to sample. For the users on one machine and the servers on another.
 */
export function remoteCollabTarget(url: string, secret: string): Target {
  const endpoint = { kind: 'collab', url, secret } as const;
  return {
    name: 'collab (remote)',
    description: `a command-service at ${url}, started outside the bench (its processes are not sampled)`,
    containers: [],
    endpoint,
    prepare: () => Promise.resolve(), // documents exist from their first op
    connect: userConnector(endpoint),
    close: () => Promise.resolve(),
  };
}

/** The client half, in the bench process (the users run in user processes, see user-process.ts). */
export async function startCollabTarget(
  embedded: boolean,
  partitions: number,
  where: 'processes' | 'in-process',
  instances = 1,
): Promise<Target> {
  const run = randomUUID().slice(0, 8);
  // The children use this run's servers, never a stack of their own.
  const env = embedded ? {} : { ...endpointsToEnv(await useStack()), COLLAB_STACK: 'external' };
  const args = { embedded, partitions, run, instances };
  const servers: ServerProcess[] = [];
  try {
    if (where === 'in-process') {
      const roles: CollabServerArgs['roles'] = ['command', 'workers'];
      servers.push(await startInProcess('bench process', () => startCollabServers({ ...args, roles })));
    } else if (embedded) {
      servers.push(await spawnServer('collab serve', 'collab', { ...args, roles: ['command', 'workers'] }, env));
    } else {
      // Workers first: they create the topic and migrate the keyspace, so the two never race on it.
      servers.push(await spawnServer('projection + snapshot', 'collab', { ...args, roles: ['workers'] }, env));
      for (let instance = 1; instance <= instances; instance++) {
        const name = instances === 1 ? 'command-service' : `command-service ${instance}`;
        servers.push(await spawnServer(name, 'collab', { ...args, instance, roles: ['command'] }, env));
      }
    }
  } catch (err) {
    for (const s of servers.reverse()) await s.close();
    throw err;
  }
  const commands = servers.slice(servers.length - (embedded || where === 'in-process' ? 1 : instances));
  const command = commands[0]!;
  const endpoint = {
    kind: 'collab',
    url: command.url,
    secret: SECRET,
    ...(commands.length > 1 ? { urls: commands.map((c) => c.url) } : {}),
  } as const;
  return {
    name: embedded ? 'collab (embedded)' : 'collab',
    description:
      where === 'in-process'
        ? `${command.description}; every service in the bench process, beside the users`
        : `${command.description}; ${servers.map((s) => s.name).join(', ')} in ${servers.length === 1 ? 'a process of its own' : 'processes of their own'}`,
    containers: command.containers,
    processes: servers,
    endpoint,
    prepare: () => Promise.resolve(), // documents exist from their first op
    connect: userConnector(endpoint),
    async close() {
      for (const s of [...servers].reverse()) await s.close();
    },
  };
}
