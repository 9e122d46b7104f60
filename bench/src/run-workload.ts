/**
 * One system, one workload: the users connect from their user processes (user-process.ts: whole documents per
 * process), type together from a "go" for `seconds`, a few sockets are dropped on the way, this process times
 * document loads, then every user process lets its users settle and checks convergence (each of its documents
 * opened fresh, a timed load, and every client's final text must equal it). The figures of all processes merged.
 */
import { assignDocuments, assignUserProcesses, type LoadOptions } from './args.js';
import { Recorder } from './recorder.js';
import {
  containerCpuSeconds,
  containerIds,
  CpuLedger,
  dockerStats,
  LoopDelay,
  PidSampler,
  pidCpuSeconds,
  processTreeCpuSeconds,
  ProcessSampler,
  type ContainerStats,
  type CpuSource,
  type CpuSpan,
} from './resources.js';
import type { LatencySummary } from './stats.js';
import { rng } from './stats.js';
import type { ServerMeasures } from './server-process.js';
import type { Target } from './target.js';
import { UserProcesses, type Divergence, type UserProcessResult } from './user-process.js';

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
  divergence: Divergence;
  /** The bench process: it starts the servers and the user processes and times the document loads. */
  process: ReturnType<ProcessSampler['summary']> & { eventLoopDelayMs: ReturnType<LoopDelay['summary']> };
  /** The processes of the simulated users: CPU, RSS and event-loop delay of each (is the generator the limit?). */
  userProcesses: ({ name: string; pid: number; users: number; documents: number } & UserProcessResult['process'] &
    Pick<UserProcessResult, 'eventLoopDelayMs' | 'waitingForCpu'>)[];
  /** The servers' processes (ours: command-service, projection + snapshot; ShareDB: its server). */
  servers: ({ name: string } & ReturnType<PidSampler['summary']> & Partial<ServerMeasures>)[];
  containers: { during: ContainerStats[]; after: ContainerStats[] };
  /**
   * CPU of every process and container (cumulative counters read at marks): `idle` with every user connected and
   * nobody typing (the stack's fixed cost), `typing` over the typing time. See cpuPerOp in report.ts.
   */
  cpu: { idle: CpuSpan | undefined; typing: CpuSpan | undefined };
  timeline: { second: number; count: number; p50: number | null; p99: number | null }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runWorkload(target: Target, options: LoadOptions, runId: string): Promise<RunResult> {
  const log = (message: string) => console.log(`  [${target.name}] ${message}`);
  const docIds = Array.from({ length: options.docs }, (_, i) => `load-${runId}-${i}`);
  await target.prepare(docIds);
  const assignment = assignDocuments(options, docIds);
  const shares = assignUserProcesses(assignment, docIds, options.userProcesses);
  // Sockets dropped at evenly spread moments; the SDKs reconnect and resend on their own.
  const random = rng(options.seed);
  const drops = Array.from({ length: options.drops }, (_, k) => ({
    atMs: ((k + 1) * options.seconds * 1000) / (options.drops + 1),
    user: Math.floor(random() * options.users),
  }));
  log(
    `connecting ${options.users} users to ${options.docs} documents from ${shares.length} user process(es) ` +
      `(${shares.map((s) => `${s.users.length} users / ${s.docIds.length} docs`).join(', ')})`,
  );
  const children = await UserProcesses.start(
    shares.map((share, i) => ({
      name: `users-${i + 1}`,
      endpoint: target.endpoint,
      users: share.users.map((index) => ({ index, docId: assignment[index]! })),
      docIds: share.docIds,
      rate: options.rate,
      seed: options.seed,
      drops: drops.filter((d) => share.users.includes(d.user)),
      clients: options.clients,
    })),
  );
  const recorder = new Recorder();
  let loading = true;
  const loader = await children.guard(target.connect('loader', recorder)).catch((err: unknown) => {
    children.kill();
    throw err;
  });
  try {
    const presence = (await children.presence()) ? 'available' : 'not available';
    const ledger = new CpuLedger(await cpuSources(target, children.pids));
    ledger.mark('connected');
    if (options.idleSeconds > 0) {
      log(`every user connected; measuring the idle stack for ${options.idleSeconds} s`);
      await children.guard(sleep(options.idleSeconds * 1000));
    }
    ledger.mark('go');
    const sampler = new ProcessSampler();
    const loop = new LoopDelay();
    sampler.start();
    loop.start();
    const serverSamplers = (target.processes ?? []).map((p) => new PidSampler(p.name, p.pid));
    for (const s of serverSamplers) s.start();
    await Promise.all((target.processes ?? []).map((p) => p.measure?.start()));
    recorder.startClock();
    children.go(); // every user process has connected: all start typing now
    log(`typing for ${options.seconds} s (presence: ${presence})`);

    // Timed opens of documents with history, on a connection of their own, from a third of the run on.
    const loads = (async () => {
      await sleep((options.seconds * 1000) / 3);
      if (options.loadEveryMs === 0) return;
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
        await sleep(options.loadEveryMs);
      }
    })();
    const during = sleep((options.seconds * 1000) / 2).then(() => dockerStats(target.containers));

    await children.guard(sleep(options.seconds * 1000));
    ledger.mark('stopped');
    const typingSeconds = recorder.elapsedSeconds();
    children.stop();
    loading = false;
    await loads;
    sampler.stop();
    loop.stop();
    for (const s of serverSamplers) s.stop();
    const serverMeasures = await Promise.all((target.processes ?? []).map((p) => p.measure?.stop()));
    log(
      'typing stopped; each user process waits for its acks, then checks its documents (opened fresh) vs its clients',
    );
    const results = await children.results();
    const unsettled = results.reduce((n, r) => n + r.unsettled, 0);
    if (unsettled > 0) log(`${unsettled} users still had pending keystrokes 60 s after the typing stopped`);

    const divergence: Divergence = { documents: 0, clients: 0, divergent: 0, behind: 0, examples: [] };
    for (const r of results) {
      recorder.merge(r.recorder);
      divergence.documents += r.divergence.documents;
      divergence.clients += r.divergence.clients;
      divergence.divergent += r.divergence.divergent;
      divergence.behind += r.divergence.behind;
      divergence.examples.push(...r.divergence.examples.slice(0, 3 - divergence.examples.length));
    }
    const after = await dockerStats(target.containers);
    const pids = children.pids;

    return {
      target: target.name,
      description: target.description,
      typingSeconds: Math.round(typingSeconds * 10) / 10,
      users: options.users,
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
      process: { ...sampler.summary(), eventLoopDelayMs: loop.summary() },
      userProcesses: results.map((r, i) => ({
        name: pids[i]!.name,
        pid: pids[i]!.pid,
        users: shares[i]!.users.length,
        documents: shares[i]!.docIds.length,
        ...r.process,
        eventLoopDelayMs: r.eventLoopDelayMs,
        waitingForCpu: r.waitingForCpu,
      })),
      servers: serverSamplers.map((s, i) => ({ name: s.name, ...s.summary(), ...serverMeasures[i] })),
      containers: { during: await during, after },
      cpu: { idle: ledger.span('connected', 'go'), typing: ledger.span('go', 'stopped') },
      timeline: Array.from(recorder.timeline, (h, second) => ({
        second,
        count: h?.count ?? 0,
        p50: h?.percentile(50) ?? null,
        p99: h?.percentile(99) ?? null,
      })),
    };
  } finally {
    loading = false;
    children.kill();
    await loader.close().catch(() => {});
  }
}

/**
 * Everything of a run that uses CPU: the servers (each process with its descendants, and helpers such as a
 * daemonized PostgreSQL), the stack's containers (their cgroups), and the load generator (the user processes and
 * this process, which also times the document loads).
 */
async function cpuSources(
  target: Target,
  userProcesses: readonly { name: string; pid: number }[],
): Promise<CpuSource[]> {
  const sources: CpuSource[] = [];
  for (const p of target.processes ?? []) {
    // A server in this very process: its tree would hold the user processes, so count the process alone.
    const read = p.pid === process.pid ? () => pidCpuSeconds(p.pid) : () => processTreeCpuSeconds(p.pid);
    sources.push({ name: p.name, role: 'server', read });
    for (const h of p.helpers ?? [])
      sources.push({ name: h.name, role: 'server', read: () => processTreeCpuSeconds(h.pid) });
  }
  for (const { name, id } of await containerIds(target.containers)) {
    sources.push({ name, role: 'container', read: () => containerCpuSeconds(id) });
  }
  for (const u of userProcesses)
    sources.push({ name: u.name, role: 'load generator', read: () => pidCpuSeconds(u.pid) });
  if (!(target.processes ?? []).some((p) => p.pid === process.pid)) {
    sources.push({ name: 'bench process', role: 'load generator', read: () => pidCpuSeconds(process.pid) });
  }
  return sources;
}
