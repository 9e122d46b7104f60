/**
 * `npm run bench:presence -- [--users 1000] [--docs 100] [--interval 1000] [--seconds 15] [--runs 3] [--embedded]`
 *
 * Presence latency: U users over real WebSockets spread over D documents, each moving its cursor every `interval`
 * ms (jittered). For every update, the time from the sender's `send` to each other user of the document seeing
 * it (update → seen-by-others) is recorded; p50/p95/p99 per run and the median of the runs are printed.
 *
 * The server is a command-service in this process (op log on an in-memory SQLite: presence never touches the op
 * log) with its presence on Redis (REDIS_URL, e.g. the dev stack's redis://127.0.0.1:29379) or, with
 * --embedded or no REDIS_URL, on the in-process bus. The clients run in the same process and share its event loop
 * and CPU with the server: the figures include that contention.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRedisPresenceBus } from '@collab/adapter-redis';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import { signDevToken, startCommandService } from '@collab/command-service';
import type { PresenceBus } from '@collab/core';
import pino from 'pino';
import WebSocket from 'ws';
import { percentile } from '../../packages/ot-text/bench/stats.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    docs: { type: 'string', default: '100' },
    interval: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '15' },
    runs: { type: 'string', default: '3' },
    embedded: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run bench:presence -- [--users N] [--docs D] [--interval MS] [--seconds S] [--runs R] [--embedded]',
  );
  process.exit(0);
}
const USERS = Number(values.users);
const DOCS = Number(values.docs);
const INTERVAL = Number(values.interval);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const SECRET = 'bench-presence-secret-bench-presence!';
const TEXT_LENGTH = 1000; // cursor positions 0..999 carry a per-sender sequence number
const redisUrl = values.embedded ? undefined : process.env.REDIS_URL;

interface Run {
  p50: number;
  p95: number;
  p99: number;
  samples: number;
  updates: number;
  lost: number;
}

type Msg = Record<string, unknown> & { t: string };

async function connect(url: string, userId: string): Promise<{ ws: WebSocket; sessionId: string; inbox: Msg[] }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const token = await signDevToken({ secret: SECRET, userId, docs: { '*': ['read', 'write'] } });
  const inbox: Msg[] = [];
  const welcome = new Promise<Msg>((resolve) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Msg;
      if (m.t === 'welcome') resolve(m);
      else inbox.push(m);
    });
  });
  ws.send(JSON.stringify({ t: 'auth', token, protocol: 1 }));
  return { ws, sessionId: String((await welcome).sessionId), inbox };
}

async function once(run: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-presence-'));
  const storage = await createSqliteStorage({ path: join(dir, 'ops.db'), partitionCount: 4 });
  const bus: PresenceBus =
    redisUrl === undefined
      ? storage.presence
      : createRedisPresenceBus({ url: redisUrl, keyPrefix: `bench-${randomUUID().slice(0, 8)}:` });
  const service = await startCommandService({
    log: storage.opLog,
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    auth: { hs256Secret: SECRET },
    consumerGroup: 'bench',
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
  });
  const url = `ws://127.0.0.1:${service.port}/v1/ws`;
  const sentAt = new Map<string, number>(); // `${sessionId}:${anchor}` → performance.now() at send
  const latencies: number[] = [];
  let measuring = false;
  let updates = 0;
  const docIds = Array.from({ length: DOCS }, (_, i) => `bench-${run}-${i}`);

  // Connect and open in batches (a thousand handshakes at once would only measure the accept queue).
  const users: Array<{ ws: WebSocket; sessionId: string; docId: string }> = [];
  for (let start = 0; start < USERS; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, USERS - start) }, async (_, k) => {
        const i = start + k;
        const docId = docIds[i % DOCS]!;
        const c = await connect(url, `user-${i}`);
        return { ...c, docId, first: i < DOCS };
      }),
    );
    for (const c of batch) {
      c.ws.on('message', (data) => {
        if (!measuring) return;
        const m = JSON.parse(String(data)) as Msg;
        if (m.t !== 'presence' || m.update === undefined) return;
        const u = m.update as { sessionId: string; cursor?: { anchor: number } };
        const t0 = sentAt.get(`${u.sessionId}:${u.cursor?.anchor}`);
        if (t0 !== undefined) latencies.push(performance.now() - t0);
      });
      c.ws.send(JSON.stringify({ t: 'open', docId: c.docId }));
      if (c.first) {
        // One user per document writes the text the cursors move over.
        c.ws.send(
          JSON.stringify({
            t: 'submit',
            docId: c.docId,
            clientId: c.sessionId,
            seq: 1,
            baseVersion: 0,
            op: ['x'.repeat(TEXT_LENGTH)],
          }),
        );
      }
      users.push(c);
    }
  }
  // Wait until every document has its text (version 1) on the server.
  for (const docId of docIds) {
    for (;;) {
      const state = await service.hub.peek(docId);
      if (state !== undefined && state.version >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const timers: NodeJS.Timeout[] = [];
  users.forEach((u, i) => {
    let seq = i % TEXT_LENGTH;
    const tick = () => {
      seq = (seq + 1) % TEXT_LENGTH;
      sentAt.set(`${u.sessionId}:${seq}`, performance.now());
      if (measuring) updates++;
      u.ws.send(JSON.stringify({ t: 'presence', docId: u.docId, version: 1, cursor: { anchor: seq, head: seq } }));
    };
    // Spread the users over the interval, then each ticks every interval ± 10 %.
    timers.push(
      setTimeout(function again() {
        tick();
        timers.push(setTimeout(again, INTERVAL * (0.9 + Math.random() * 0.2)));
      }, Math.random() * INTERVAL),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, 2000)); // warm-up
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  for (const t of timers) clearTimeout(t);

  for (const u of users) u.ws.close();
  await service.close();
  if (bus !== storage.presence) await bus.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const perDoc = USERS / DOCS - 1;
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    samples: latencies.length,
    updates,
    lost: Math.max(0, updates * perDoc - latencies.length),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (ms: number) => `${ms.toFixed(1)} ms`;

console.log(
  `presence: ${USERS} users, ${DOCS} documents, a cursor move every ${INTERVAL} ms each, ${SECONDS} s per run, ` +
    `bus: ${redisUrl === undefined ? 'in-process (embedded)' : `Redis ${redisUrl}`}`,
);
const runs: Run[] = [];
for (let r = 1; r <= RUNS; r++) {
  const result = await once(r);
  runs.push(result);
  console.log(
    `run ${r}: update → seen-by-others p50 ${f(result.p50)}  p95 ${f(result.p95)}  p99 ${f(result.p99)}  ` +
      `(${result.samples} deliveries of ${result.updates} updates; ${result.lost} not seen before the run ended)`,
  );
}
console.log(
  `median of ${RUNS}: p50 ${f(median(runs.map((r) => r.p50)))}  p95 ${f(median(runs.map((r) => r.p95)))}  ` +
    `p99 ${f(median(runs.map((r) => r.p99)))}   (target p95 < 30 ms)`,
);
process.exit(0);
