/**
 * One system, one workload: connect the users, type for `seconds`, drop a few sockets on the way, time document
 * loads, then let everything settle and check convergence: every document is opened fresh (a timed load of a
 * document with history) and every user's final text must equal it.
 */
import { assignDocuments, type LoadOptions } from './args.js';
import { Recorder } from './recorder.js';
import { dockerStats, PidSampler, ProcessSampler, type ContainerStats } from './resources.js';
import type { LatencySummary } from './stats.js';
import { rng } from './stats.js';
import type { SimConnection, SimDocument, Target } from './target.js';
import { Typist } from './typist.js';

export interface RunResult {
  target: string;
  description: string;
  typingSeconds: number;
  users: number;
  documents: number;
  keystrokes: number;
  keystrokesPerSecond: number;
  /** Ops acknowledged on the wire (keystrokes typed while one was in flight are composed into the next). */
  ackedOps: number;
  ackedOpsPerSecond: number;
  submitToAck: LatencySummary;
  submitToSeen: LatencySummary;
  documentLoad: LatencySummary;
  presence: LatencySummary | 'not available';
  errors: Record<string, number>;
  drops: number;
  reconnects: number;
  divergence: { documents: number; clients: number; divergent: number; behind: number; examples: string[] };
  process: ReturnType<ProcessSampler['summary']>;
  /** The servers' processes (ours: command-service, projection + snapshot; ShareDB: its server). */
  servers: ({ name: string } & ReturnType<PidSampler['summary']>)[];
  containers: { during: ContainerStats[]; after: ContainerStats[] };
  timeline: { second: number; count: number; p50: number | null; p99: number | null }[];
}

interface User {
  connection: SimConnection;
  doc: SimDocument;
  docId: string;
  typist: Typist;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)));
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export async function runWorkload(target: Target, options: LoadOptions, runId: string): Promise<RunResult> {
  const log = (message: string) => console.log(`  [${target.name}] ${message}`);
  const docIds = Array.from({ length: options.docs }, (_, i) => `load-${runId}-${i}`);
  await target.prepare(docIds);
  const assignment = assignDocuments(options, docIds);
  const recorder = new Recorder();
  const users: User[] = [];
  log(`connecting ${options.users} users to ${options.docs} documents`);
  await inBatches(assignment, 50, async (docId, i) => {
    const connection = await target.connect(`user-${i}`, recorder);
    const doc = await connection.open(docId);
    users.push({ connection, doc, docId, typist: new Typist(doc, options.rate, options.seed * 100_003 + i) });
  });
  const presence = users[0]?.doc.setCursor === undefined ? 'not available' : 'available';

  const sampler = new ProcessSampler();
  sampler.start();
  const serverSamplers = (target.processes ?? []).map((p) => new PidSampler(p.name, p.pid));
  for (const s of serverSamplers) s.start();
  recorder.startClock();
  log(`typing for ${options.seconds} s (presence: ${presence})`);
  for (const user of users) user.typist.start();

  // Sockets dropped at evenly spread moments; the SDKs reconnect and resend on their own.
  const random = rng(options.seed);
  const dropTimers = Array.from({ length: options.drops }, (_, k) =>
    setTimeout(
      () => users[Math.floor(random() * users.length)]?.connection.drop(),
      ((k + 1) * options.seconds * 1000) / (options.drops + 1),
    ),
  );
  // Timed opens of documents with history, on a connection of their own, from a third of the run on.
  const loader = await target.connect('loader', recorder);
  let loading = true;
  const loads = (async () => {
    await sleep((options.seconds * 1000) / 3);
    while (loading) {
      const docId = docIds[Math.floor(random() * docIds.length)]!;
      const started = performance.now();
      try {
        const doc = await loader.open(docId);
        recorder.load.record(performance.now() - started);
        doc.close();
      } catch (err) {
        recorder.error(`load: ${(err as { code?: string }).code ?? String(err)}`);
      }
      await sleep(200);
    }
  })();
  const during = sleep((options.seconds * 1000) / 2).then(() => dockerStats(target.containers));

  await sleep(options.seconds * 1000);
  const typingSeconds = recorder.elapsedSeconds();
  for (const user of users) user.typist.stop();
  for (const t of dropTimers) clearTimeout(t);
  loading = false;
  await loads;
  sampler.stop();
  for (const s of serverSamplers) s.stop();
  log('typing stopped; waiting for every keystroke to be acknowledged');
  const settled = await until(() => users.every((u) => u.doc.pending === 0), 60_000);
  if (!settled) log(`${users.filter((u) => u.doc.pending > 0).length} users still have pending keystrokes after 60 s`);

  log('checking convergence: each document opened fresh vs every client');
  const divergence = {
    documents: docIds.length,
    clients: users.length,
    divergent: 0,
    behind: 0,
    examples: [] as string[],
  };
  const verifier = await target.connect('verifier', recorder);
  await inBatches(docIds, 10, async (docId) => {
    const started = performance.now();
    const fresh = await verifier.open(docId);
    recorder.load.record(performance.now() - started);
    const clients = users.filter((u) => u.docId === docId);
    await until(() => clients.every((u) => u.doc.version >= fresh.version), 15_000);
    for (const u of clients) {
      if (u.doc.version < fresh.version) divergence.behind++;
      else if (u.doc.text !== fresh.text) {
        divergence.divergent++;
        if (divergence.examples.length < 3) {
          divergence.examples.push(`${docId}: client at v${u.doc.version} differs from the server's v${fresh.version}`);
        }
      }
    }
    fresh.close();
  });
  const after = await dockerStats(target.containers);
  await Promise.allSettled([...users.map((u) => u.connection.close()), loader.close(), verifier.close()]);

  return {
    target: target.name,
    description: target.description,
    typingSeconds: Math.round(typingSeconds * 10) / 10,
    users: users.length,
    documents: docIds.length,
    keystrokes: recorder.keystrokes,
    keystrokesPerSecond: Math.round(recorder.keystrokes / typingSeconds),
    ackedOps: recorder.acks,
    ackedOpsPerSecond: Math.round(recorder.acks / typingSeconds),
    submitToAck: recorder.ack.summary(),
    submitToSeen: recorder.seen.summary(),
    documentLoad: recorder.load.summary(),
    presence: presence === 'available' ? recorder.presence.summary() : 'not available',
    errors: Object.fromEntries(recorder.errors),
    drops: options.drops,
    reconnects: recorder.reconnects,
    divergence,
    process: sampler.summary(),
    servers: serverSamplers.map((s) => ({ name: s.name, ...s.summary() })),
    containers: { during: await during, after },
    timeline: Array.from(recorder.timeline, (h, second) => ({
      second,
      count: h?.count ?? 0,
      p50: h?.percentile(50) ?? null,
      p99: h?.percentile(99) ?? null,
    })),
  };
}
