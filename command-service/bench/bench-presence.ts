/**
 * `npm run bench:presence -- [--users 1000] [--docs 100] [--interval 1000] [--seconds 15] [--runs 3]
 *   [--client-procs 2] [--instances 1] [--embedded] [--stages]`
 *
 * Presence latency: U users over real WebSockets spread over D documents, each moving its cursor every `interval`
 * ms (jittered). For every update, the time from the sender's `send` to each other user of the document seeing
 * it (update → seen-by-others) is recorded; p50/p95/p99 per run and the median of the runs are printed.
 *
 * The server is one command-service instance in this process (op log on a temporary SQLite file: presence never
 * touches the op log) with its presence on Redis (REDIS_URL) or, with --embedded or no REDIS_URL, on the
 * in-process bus. Every user is on that instance, so an update reaches the others straight from the router; the
 * bus still carries every announcement (for other instances and for `list`), and `--stages` times its round trip,
 * which is what a session on another instance waits in addition: client → announce (WebSocket, session, router),
 * announce → seen (delivery, WebSocket, client), announce → event back from the bus. `--instances N` runs N
 * command-services (each with its own op log and its own bus on the same Redis or in-process hub; the users of a
 * document take turns over them), so most deliveries cross the bus; those are also reported on their own.
 *
 * The simulated users run in `--client-procs` child processes (default 2; documents are dealt out to them whole,
 * so a sender and its receivers share a clock), so the server's event loop and CPU are its own; the CPU time and
 * event-loop delay (lateness of a 5 ms timer) of the server and of the clients are reported separately, with
 * redis-server's CPU (INFO cpu) and the load average. `--client-procs 0` runs the clients in the server's
 * process, as the first version of this benchmark did (the figures then include that contention).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import { createSqliteStorage, InProcessPresenceHub, type SqliteStorage } from '@collab/adapter-sqlite';
import { startCommandService } from '../src/index.js';
import type { PresenceBus } from '@collab/core';
import { Redis } from 'ioredis';
import pino from 'pino';
import { percentile } from '@collab/infra';
import { BenchClients, type ClientsConfig, type ClientsResult } from './presence-clients.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    docs: { type: 'string', default: '100' },
    interval: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '15' },
    runs: { type: 'string', default: '3' },
    'client-procs': { type: 'string', default: '2' },
    instances: { type: 'string', default: '1' },
    embedded: { type: 'boolean', default: false },
    stages: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run bench:presence -- [--users N] [--docs D] [--interval MS] [--seconds S] [--runs R] ' +
      '[--client-procs P] [--instances N] [--embedded] [--stages]',
  );
  process.exit(0);
}
const USERS = Number(values.users);
const DOCS = Number(values.docs);
const INTERVAL = Number(values.interval);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const PROCS = Number(values['client-procs']);
const INSTANCES = Math.max(1, Number(values.instances));
const STAGES = values.stages;
const SECRET = 'bench-presence-secret-bench-presence!';
const TEXT_LENGTH = 1000; // cursor positions 0..999 carry a per-sender sequence number
const redisUrl = values.embedded ? undefined : process.env.REDIS_URL;
/** The event-loop delay histograms time a timer of this period; what is reported is the lateness beyond it. */
const LOOP_RESOLUTION_MS = 5;

interface Run {
  p50: number;
  p95: number;
  p99: number;
  samples: number;
  /** Deliveries from a sender on another instance (through the bus), with --instances > 1. */
  cross: { p50: number; p95: number; p99: number } | undefined;
  updates: number;
  lost: number;
  serverCpu: number;
  serverSys: number;
  serverLoop: { p50: number; p99: number; max: number };
  clientCpu: number[];
  clientLoop: Array<{ p50: number; p99: number; max: number }>;
  redisCpu: number | undefined;
  stages: string | undefined;
}

/** One group of clients: in a child process, or in this process with --client-procs 0. */
interface Group {
  init(config: ClientsConfig): Promise<void>;
  start(): void;
  measure(): void;
  stop(): Promise<ClientsResult>;
  kill(): void;
}

function inProcessGroup(): Group {
  let clients: BenchClients | undefined;
  return {
    async init(config) {
      clients = new BenchClients(config);
      await clients.connect();
    },
    start: () => clients!.start(),
    measure: () => clients!.measure(),
    stop: async () => clients!.stop(),
    kill: () => {},
  };
}

function childGroup(): Group {
  const child: ChildProcess = fork(fileURLToPath(new URL('./presence-clients.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_PRESENCE_CLIENTS: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (ev: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.ev !== ev) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`a client process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return {
    async init(config) {
      const ready = next('ready');
      child.send({ cmd: 'init', config });
      await ready;
    },
    start: () => child.send({ cmd: 'start' }),
    measure: () => child.send({ cmd: 'measure' }),
    async stop() {
      const result = next('result');
      child.send({ cmd: 'stop' });
      return (await result).result as ClientsResult;
    },
    kill: () => child.kill(),
  };
}

/** Records when each update (`${clientId}:${anchor}`) went into the bus and when its event came back. */
function tracingBus(bus: PresenceBus, announced: Map<string, number>, received: Map<string, number>): PresenceBus {
  const own = new Set<string>();
  const keyOf = (clientId: string, data: Record<string, unknown>) =>
    `${clientId}:${(data.cursor as { anchor?: number } | undefined)?.anchor}`;
  const now = () => performance.timeOrigin + performance.now();
  return {
    announce(docId, state, ttlMs) {
      const key = keyOf(state.clientId, state.data);
      own.add(key);
      if (!announced.has(key)) announced.set(key, now());
      return bus.announce(docId, state, ttlMs);
    },
    leave: (docId, clientId) => bus.leave(docId, clientId),
    list: (docId) => bus.list(docId),
    subscribe: (docId, listener) =>
      bus.subscribe(docId, (event) => {
        if (event.kind === 'update') {
          const key = keyOf(event.state.clientId, event.state.data);
          // With one instance the echo is the round trip; with several, the arrival at another instance.
          if (!received.has(key) && (INSTANCES === 1 || !own.has(key))) received.set(key, now());
        }
        listener(event);
      }),
    close: () => bus.close(),
  };
}

async function redisCpuSeconds(redis: Redis | undefined): Promise<number | undefined> {
  if (redis === undefined) return undefined;
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return read('used_cpu_user') + read('used_cpu_sys');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  storage: SqliteStorage;
  rawBus: PresenceBus;
  service: Awaited<ReturnType<typeof startCommandService>>;
  url: string;
}

/** One command-service: its own op log (presence never touches it), its own bus on the shared Redis or hub. */
async function startInstance(
  dir: string,
  k: number,
  keyPrefix: string,
  hub: InProcessPresenceHub,
  announced: Map<string, number>,
  received: Map<string, number>,
): Promise<Instance> {
  const storage = await createSqliteStorage({ path: join(dir, `ops-${k}.db`), partitionCount: 4, presenceHub: hub });
  const rawBus: PresenceBus =
    redisUrl === undefined ? storage.presence : createRedisPresenceBus({ url: redisUrl, keyPrefix });
  const bus = STAGES ? tracingBus(rawBus, announced, received) : rawBus;
  const service = await startCommandService({
    log: storage.opLog,
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    auth: { hs256Secret: SECRET },
    consumerGroup: `bench-${k}`,
    ownAllPartitions: true,
    window: 1000,
    hashEvery: 1000,
    limits: {
      maxFrameBytes: 256 * 1024,
      maxOpInsertLength: 64 * 1024,
      maxOpComponents: 2048,
      maxDocumentLength: 1024 * 1024,
      maxDocuments: 8,
      maxUnacked: 64,
      opsPerSecond: 200,
      messagesPerSecond: 500,
    },
    idleTimeoutSeconds: 120,
    presence: { bus, ttlMs: 5000, updatesPerSecond: 20 },
    // Every simulated user connects from 127.0.0.1: the per-address cap (256 by default) would refuse most.
    connections: { maxPerAddress: 100_000 },
  });
  return { storage, rawBus, service, url: `ws://127.0.0.1:${service.port}/v1/ws` };
}

async function once(run: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-presence-'));
  const announced = new Map<string, number>();
  const received = new Map<string, number>();
  const keyPrefix = `bench-${randomUUID().slice(0, 8)}:`;
  const hub = new InProcessPresenceHub();
  const instances: Instance[] = [];
  for (let k = 0; k < INSTANCES; k++) instances.push(await startInstance(dir, k, keyPrefix, hub, announced, received));
  const redisInfo = redisUrl === undefined ? undefined : new Redis(redisUrl, { lazyConnect: false });
  const docIds = Array.from({ length: DOCS }, (_, i) => `bench-${run}-${i}`);
  // The users of a document take turns over the instances; the first one on each instance writes the text there.
  const docs = docIds.map((docId) => ({
    docId,
    users: [] as Array<{ userId: string; url: string; writer: boolean }>,
  }));
  for (let i = 0; i < USERS; i++) {
    const doc = docs[i % DOCS]!;
    const k = doc.users.length % INSTANCES;
    doc.users.push({ userId: `user-${i}`, url: instances[k]!.url, writer: doc.users.length < INSTANCES });
  }

  // Whole documents per group, so each latency is measured on one clock.
  const groupCount = Math.max(1, PROCS);
  const groups = Array.from({ length: groupCount }, () => (PROCS === 0 ? inProcessGroup() : childGroup()));
  try {
    await Promise.all(
      groups.map((g, k) =>
        g.init({
          secret: SECRET,
          docs: docs.filter((_, i) => i % groupCount === k),
          intervalMs: INTERVAL,
          textLength: TEXT_LENGTH,
          trace: STAGES,
        }),
      ),
    );
    // Wait until every document has its text (version 1) on every instance.
    for (const { service } of instances) {
      for (const docId of docIds) {
        for (;;) {
          const state = await service.hub.peek(docId);
          if (state !== undefined && state.version >= 1) break;
          await sleep(20);
        }
      }
    }
    for (const g of groups) g.start();
    await sleep(2000); // warm-up
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const redisBefore = await redisCpuSeconds(redisInfo);
    for (const g of groups) g.measure();
    const cpuBefore = process.cpuUsage();
    loop.enable();
    await sleep(SECONDS * 1000);
    loop.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const redisAfter = await redisCpuSeconds(redisInfo);
    const results = await Promise.all(groups.map((g) => g.stop()));
    await sleep(200); // the closes reach the server before it shuts down

    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const cross = results.flatMap((r) => r.cross);
    const updates = results.reduce((n, r) => n + r.updates, 0);
    const expected = results.reduce((n, r) => n + r.expected, 0);
    const wall = SECONDS * 1000;
    const loopMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
    return {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      samples: latencies.length,
      cross:
        cross.length === 0
          ? undefined
          : { p50: percentile(cross, 50), p95: percentile(cross, 95), p99: percentile(cross, 99) },
      updates,
      lost: Math.max(0, expected - latencies.length),
      serverCpu: (cpu.user + cpu.system) / 1000 / wall,
      serverSys: cpu.system / 1000 / wall,
      serverLoop: { p50: loopMs(loop.percentile(50)), p99: loopMs(loop.percentile(99)), max: loopMs(loop.max) },
      clientCpu: results.map((r) => r.cpuMs / r.wallMs),
      clientLoop: results.map((r) => r.loopDelay),
      redisCpu:
        redisBefore === undefined || redisAfter === undefined ? undefined : ((redisAfter - redisBefore) * 1000) / wall,
      stages: STAGES ? stageReport(results, announced, received) : undefined,
    };
  } finally {
    for (const g of groups) g.kill();
    for (const { service, rawBus, storage } of instances) {
      await service.close();
      if (rawBus !== storage.presence) await rawBus.close();
      await storage.close();
    }
    redisInfo?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

function stageReport(results: ClientsResult[], announced: Map<string, number>, received: Map<string, number>): string {
  const sent = new Map<string, number>();
  for (const r of results) for (const [key, t] of r.sends ?? []) sent.set(key, t);
  const toBus: number[] = [];
  const roundTrip: number[] = [];
  const out: number[] = [];
  const viaBus: number[] = [];
  const total: number[] = [];
  let untraced = 0;
  const seenUpdates = new Set<string>();
  for (const r of results) {
    for (const [key, t] of r.seen ?? []) {
      const s = sent.get(key);
      const a = announced.get(key);
      const e = received.get(key);
      if (s === undefined || a === undefined || e === undefined) {
        untraced++;
        continue;
      }
      total.push(t - s);
      if (!seenUpdates.has(key)) {
        seenUpdates.add(key);
        toBus.push(a - s);
        roundTrip.push(e - a);
      }
      out.push(t - a);
      viaBus.push(Math.max(t, e) - s);
    }
  }
  const p = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(1)} / p95 ${percentile(xs, 95).toFixed(1)} / p99 ${percentile(xs, 99).toFixed(1)} ms`;
  return (
    `  stages: client → announce ${p(toBus)};  announce → seen ${p(out)}\n` +
    `  bus: announce → event ${INSTANCES === 1 ? 'back (what a session on another instance waits in addition)' : 'at another instance'} ${p(roundTrip)};` +
    `  send → max(seen, event) ${p(viaBus)}\n  traced deliveries: ${p(total)} (${untraced} not traced)`
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (ms: number) => `${ms.toFixed(1)} ms`;
const pct = (share: number) => `${(share * 100).toFixed(0)} %`;
const loadavg = async () =>
  (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(
  `presence: ${USERS} users, ${DOCS} documents, a cursor move every ${INTERVAL} ms each, ${SECONDS} s per run, ` +
    `bus: ${redisUrl === undefined ? 'in-process (embedded)' : `Redis ${redisUrl}`}, clients: ` +
    `${PROCS === 0 ? "in the server's process" : `${PROCS} child process(es)`}` +
    (INSTANCES > 1 ? `, ${INSTANCES} command-service instances` : ''),
);
const runs: Run[] = [];
for (let r = 1; r <= RUNS; r++) {
  const load = await loadavg();
  const result = await once(r);
  runs.push(result);
  console.log(
    `run ${r}: update → seen-by-others p50 ${f(result.p50)}  p95 ${f(result.p95)}  p99 ${f(result.p99)}  ` +
      `(${result.samples} deliveries of ${result.updates} updates; ${result.lost} not seen before the run ended)`,
  );
  const loops = (l: { p50: number; p99: number; max: number }) => `${f(l.p50)}/${f(l.p99)}/${f(l.max)}`;
  console.log(
    `  CPU: server ${pct(result.serverCpu)} of a core (${pct(result.serverSys)} in the kernel; event-loop delay p50/p99/max ${loops(result.serverLoop)})` +
      (PROCS === 0
        ? ' — clients included'
        : `; clients ${result.clientCpu.map(pct).join(' + ')} (loop p99 ${result.clientLoop.map((l) => f(l.p99)).join(', ')})`) +
      (result.redisCpu === undefined ? '' : `; redis-server ${pct(result.redisCpu)}`) +
      `; load average before the run ${load}`,
  );
  if (result.cross !== undefined) {
    console.log(
      `  from another instance (through the bus): p50 ${f(result.cross.p50)}  p95 ${f(result.cross.p95)}  ` +
        `p99 ${f(result.cross.p99)}`,
    );
  }
  if (result.stages !== undefined) console.log(result.stages);
}
console.log(
  `median of ${RUNS}: p50 ${f(median(runs.map((r) => r.p50)))}  p95 ${f(median(runs.map((r) => r.p95)))}  ` +
    `p99 ${f(median(runs.map((r) => r.p99)))}   (target p95 < 30 ms); load average now ${await loadavg()}`,
);
process.exit(0);
