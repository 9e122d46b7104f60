/**
 * Real command-service processes for failover tests: `node --conditions=@collab/source --import tsx command-service/src/main.ts` with its
 * configuration in the environment, ready when it prints `{"ready":true,"port":N}`. Fast failover settings: a
 * 6 s consumer session (the broker's minimum) and 500 ms heartbeats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureCommandTopics } from '@collab/adapter-kafka';
import { Kafka } from 'kafkajs';
import type { TestTopic } from './service.js';
import { freshTopic, SECRET } from './service.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface MultiTopic extends TestTopic {
  commandsTopic: string;
  repliesTopic: string;
  group: string;
}

export async function freshTopics(partitions = 4): Promise<MultiTopic> {
  const t = await freshTopic(partitions);
  const commandsTopic = t.topic.replace('test.ops.', 'test.commands.');
  const repliesTopic = t.topic.replace('test.ops.', 'test.replies.');
  const admin = new Kafka({ clientId: 'test-admin', brokers: t.brokers, logLevel: 0 }).admin();
  await admin.connect();
  try {
    await ensureCommandTopics(admin, { commandsTopic, repliesTopic, partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return { ...t, commandsTopic, repliesTopic, group: `${t.topic}-command` };
}

export interface Status {
  instanceId: string;
  ownedPartitions: number[];
  openDocuments: number;
  pendingForwards: number;
}

/**
 * A service process of this repository (`node --conditions=@collab/source --import tsx <entry> ...args`), as an operator starts it, ready once
 * it prints its `{"ready":true,...}` line. Keeps the last 5,000 lines of its stdout and stderr for failure messages.
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The ready line, parsed. */
  ready: Record<string, unknown> = {};
  private readonly readyLine: Promise<Record<string, unknown>>;

  protected constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.readyLine = new Promise<Record<string, unknown>>((resolve, reject) => {
      const onLine = (line: string) => {
        this.lines.push(line);
        if (this.lines.length > 5_000) this.lines.shift();
        if (process.env.TEST_ECHO === '1') process.stderr.write(`[${this.name}] ${line}\n`);
        if (line.startsWith('{"ready":true')) resolve(JSON.parse(line) as Record<string, unknown>);
      };
      createInterface({ input: this.child.stdout! }).on('line', onLine);
      createInterface({ input: this.child.stderr! }).on('line', onLine);
      void this.exited.then(({ code }) =>
        reject(new Error(`${this.name} exited (${code}) before ready:\n${this.lines.slice(-20).join('\n')}`)),
      );
    });
    this.readyLine.catch(() => {}); // a process expected to fail is awaited through `exited`
  }

  /** Started, not awaited: for a process expected to fail before it is ready. */
  static launch(name: string, args: string[], env: NodeJS.ProcessEnv): ServiceProcess {
    const child = spawn(process.execPath, ['--conditions=@collab/source', '--import', 'tsx', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    return new ServiceProcess(name, child);
  }

  static async spawn(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
    const service = ServiceProcess.launch(name, args, env);
    await service.whenReady();
    return service;
  }

  protected async whenReady(): Promise<void> {
    this.ready = await this.readyLine;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Log lines (pino JSON) at warn or worse, for failure messages. */
  problems(): string[] {
    return this.lines.filter((l) => /"level":(40|50|60)/.test(l));
  }
}

/** A command-service process on the test topics; `entry` is how it is started (its main.ts by default). */
export class Instance extends ServiceProcess {
  get port(): number {
    return Number(this.ready.port);
  }

  static async start(
    t: MultiTopic,
    name: string,
    env: Record<string, string> = {},
    entry: string[] = ['command-service/src/main.ts'],
  ): Promise<Instance> {
    const child = spawn(process.execPath, ['--conditions=@collab/source', '--import', 'tsx', ...entry], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KAFKA_BROKERS: t.brokers.join(','),
        COLLAB_OPS_TOPIC: t.topic,
        COLLAB_OPS_PARTITIONS: String(t.partitions),
        COLLAB_COMMANDS_TOPIC: t.commandsTopic,
        COLLAB_REPLIES_TOPIC: t.repliesTopic,
        COLLAB_CONSUMER_GROUP: t.group,
        COLLAB_PROVISION: 'true',
        COLLAB_INSTANCE_ID: `${name}-${randomUUID().slice(0, 6)}`,
        COLLAB_HOST: '127.0.0.1',
        COLLAB_PORT: '0',
        COLLAB_METRICS_PORT: '0',
        COLLAB_JWT_SECRET: SECRET,
        COLLAB_KAFKA_SESSION_TIMEOUT_MS: '6000',
        COLLAB_KAFKA_HEARTBEAT_MS: '500',
        COLLAB_FORWARD_TIMEOUT_MS: '8000',
        COLLAB_OPS_PER_SECOND: '1000',
        COLLAB_MESSAGES_PER_SECOND: '2000',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
        ...env,
      },
    });
    const instance = new Instance(name, child);
    await instance.whenReady();
    return instance;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/ws`;
  }

  async status(): Promise<Status> {
    const res = await fetch(`http://127.0.0.1:${this.port}/v1/status`);
    return (await res.json()) as Status;
  }
}

/** Bounded polling: Kafka rebalances have no event we could await from outside the process. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
