/** The report of one `bench:load` run: JSON (everything), a Markdown summary, the plot; and the console table. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadOptions } from './args.js';
import { writePlot } from './plot.js';
import type { RunResult } from './run-workload.js';
import type { CpuRole } from './resources.js';
import type { LatencySummary } from './stats.js';

const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} ms`);
const ratio = (ours: number | null, peer: number | null) =>
  ours === null || peer === null || ours === 0 ? '–' : `${(peer / ours).toFixed(2)}×`;

/** One figure per user process: `3 users-1 a; users-2 b; users-3 c` (the count first). */
function perUser(r: RunResult, figure: (u: RunResult['userProcesses'][number]) => string): string {
  return `${r.userProcesses.length}: ${r.userProcesses.map((u) => `${u.name} ${figure(u)}`).join('; ')}`;
}

/** One figure per server process that has it (`name figure; …`), '–' when none has. */
function perServer(r: RunResult, figure: (s: RunResult['servers'][number]) => string | undefined): string {
  const figures = r.servers.flatMap((s) => {
    const f = figure(s);
    return f === undefined ? [] : [`${s.name} ${f}`];
  });
  return figures.join('; ') || '–';
}

/** CPU of one source over the typing time and at idle, and what it costs per acked op. */
export interface CpuPerOp {
  name: string;
  role: CpuRole;
  idleCores: number | null;
  typingCores: number | null;
  /** CPU ms per acked op over the typing time. */
  msPerOp: number | null;
  /** The same above the idle stack's CPU (what each op adds). */
  msPerOpAboveIdle: number | null;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Per source, and the servers' total (processes and containers: what an operator pays for): CPU per acked op,
 * from the cumulative counters over the typing time, and above the idle CPU with the same users connected.
 */
export function cpuPerOp(r: RunResult): {
  sources: CpuPerOp[];
  servers: Omit<CpuPerOp, 'name' | 'role'>;
  loadGeneratorCores: number | null;
} {
  const typing = r.cpu.typing;
  const idle = r.cpu.idle;
  const ops = r.ackedOps;
  const sources: CpuPerOp[] = (typing?.sources ?? []).map((s, i) => {
    const idleCores = idle?.sources[i]?.cores ?? null;
    const perOp = (cores: number | null) =>
      cores === null || typing === undefined || ops === 0 ? null : round((cores * typing.seconds * 1000) / ops);
    return {
      name: s.name,
      role: s.role,
      idleCores,
      typingCores: s.cores,
      msPerOp: perOp(s.cores),
      msPerOpAboveIdle: s.cores === null || idleCores === null ? null : perOp(s.cores - idleCores),
    };
  });
  const sum = (pick: (s: CpuPerOp) => number | null, role: (r: CpuRole) => boolean) => {
    const xs = sources.filter((s) => role(s.role)).map(pick);
    return xs.length === 0 || xs.some((x) => x === null) ? null : round(xs.reduce<number>((a, b) => a + b!, 0));
  };
  const server = (role: CpuRole) => role !== 'load generator';
  return {
    sources,
    servers: {
      idleCores: sum((s) => s.idleCores, server),
      typingCores: sum((s) => s.typingCores, server),
      msPerOp: sum((s) => s.msPerOp, server),
      msPerOpAboveIdle: sum((s) => s.msPerOpAboveIdle, server),
    },
    loadGeneratorCores: sum(
      (s) => s.typingCores,
      (role) => role === 'load generator',
    ),
  };
}

const fixed = (x: number | null, unit = '') => (x === null ? '–' : `${x}${unit}`);

function rows(results: readonly RunResult[]): string[][] {
  const lat = (name: string, pick: (r: RunResult) => LatencySummary) =>
    (['p50', 'p95', 'p99'] as const).map((p) => [`${name} ${p}`, ...results.map((r) => ms(pick(r)[p]))]);
  return [
    ...lat('keystroke → ack', (r) => r.submitToAck),
    ...lat('keystroke → seen by another client', (r) => r.submitToSeen),
    ...lat('document load', (r) => r.documentLoad),
    ['presence p95', ...results.map((r) => (typeof r.presence === 'string' ? r.presence : ms(r.presence.p95)))],
    [
      'server CPU per acked op: all processes + containers (above idle)',
      ...results.map((r) => {
        const { servers } = cpuPerOp(r);
        return `${fixed(servers.msPerOp, ' ms')} (${fixed(servers.msPerOpAboveIdle, ' ms')})`;
      }),
    ],
    [
      'server CPU per acked op, each (ms)',
      ...results.map(
        (r) =>
          cpuPerOp(r)
            .sources.filter((s) => s.role !== 'load generator')
            .map((s) => `${s.name} ${fixed(s.msPerOp)}`)
            .join('; ') || '–',
      ),
    ],
    [
      'server CPU idle, every user connected (cores)',
      ...results.map((r) => {
        const c = cpuPerOp(r);
        return `${fixed(c.servers.idleCores)}: ${c.sources
          .filter((s) => s.role !== 'load generator')
          .map((s) => `${s.name} ${fixed(s.idleCores)}`)
          .join('; ')}`;
      }),
    ],
    ['server CPU typing (cores)', ...results.map((r) => fixed(cpuPerOp(r).servers.typingCores))],
    ['load generator CPU typing (cores)', ...results.map((r) => fixed(cpuPerOp(r).loadGeneratorCores))],
    ['keystrokes/s', ...results.map((r) => String(r.keystrokesPerSecond))],
    ['acked ops/s', ...results.map((r) => String(r.ackedOpsPerSecond))],
    ['errors', ...results.map((r) => (Object.keys(r.errors).length === 0 ? 'none' : JSON.stringify(r.errors)))],
    ['reconnects (of drops)', ...results.map((r) => `${r.reconnects} (${r.drops})`)],
    [
      'divergent / behind clients',
      ...results.map((r) => `${r.divergence.divergent} / ${r.divergence.behind} of ${r.divergence.clients}`),
    ],
    [
      'user processes (users / documents each)',
      ...results.map((r) => perUser(r, (u) => `${u.users} / ${u.documents}`)),
    ],
    [
      'user processes CPU avg / max (cores)',
      ...results.map((r) => perUser(r, (u) => `${u.cpuCoresAvg} / ${u.cpuCoresMax}`)),
    ],
    ['user processes RSS max', ...results.map((r) => perUser(r, (u) => `${u.rssMiBMax} MiB`))],
    [
      'user processes event-loop delay p50 / p99 / max',
      ...results.map((r) =>
        perUser(r, (u) => `${u.eventLoopDelayMs.p50} / ${u.eventLoopDelayMs.p99} / ${u.eventLoopDelayMs.max} ms`),
      ),
    ],
    [
      'user processes: main thread waiting for a CPU (share of the typing time)',
      ...results.map((r) =>
        perUser(r, (u) => (u.waitingForCpu === null ? '–' : `${Math.round(u.waitingForCpu * 100)} %`)),
      ),
    ],
    [
      'bench process (loads, coordination) CPU avg; event-loop delay p99',
      ...results.map((r) => `${r.process.cpuCoresAvg}; ${r.process.eventLoopDelayMs.p99} ms`),
    ],
    [
      'server processes CPU avg / max (cores)',
      ...results.map((r) => r.servers.map((s) => `${s.name} ${s.cpuCoresAvg} / ${s.cpuCoresMax}`).join('; ') || '–'),
    ],
    [
      'server processes RSS max',
      ...results.map((r) => r.servers.map((s) => `${s.name} ${s.rssMiBMax} MiB`).join('; ') || '–'),
    ],
    [
      'server processes event-loop delay p50 / p99 / max',
      ...results.map((r) =>
        perServer(r, (s) =>
          s.eventLoopDelayMs === undefined
            ? undefined
            : `${s.eventLoopDelayMs.p50} / ${s.eventLoopDelayMs.p99} / ${s.eventLoopDelayMs.max} ms`,
        ),
      ),
    ],
    [
      'server processes: main thread waiting for a CPU (share of the typing time)',
      ...results.map((r) =>
        perServer(r, (s) =>
          s.waitingForCpu === undefined || s.waitingForCpu === null
            ? undefined
            : `${Math.round(s.waitingForCpu * 100)} %`,
        ),
      ),
    ],
  ];
}

/** Peer ÷ ours for the latency percentiles and the servers' CPU per op (> 1: ours is faster, or cheaper). */
export function ratios(ours: RunResult, peer: RunResult): Record<string, string> {
  const out: Record<string, string> = {
    'server CPU per op': ratio(cpuPerOp(ours).servers.msPerOp, cpuPerOp(peer).servers.msPerOp),
    'server CPU per op above idle': ratio(
      cpuPerOp(ours).servers.msPerOpAboveIdle,
      cpuPerOp(peer).servers.msPerOpAboveIdle,
    ),
  };
  for (const [name, pick] of [
    ['ack', (r: RunResult) => r.submitToAck],
    ['seen', (r: RunResult) => r.submitToSeen],
    ['load', (r: RunResult) => r.documentLoad],
  ] as const) {
    for (const p of ['p50', 'p95', 'p99'] as const) out[`${name} ${p}`] = ratio(pick(ours)[p], pick(peer)[p]);
  }
  return out;
}

function targets(r: RunResult): string[] {
  const check = (ok: boolean) => (ok ? '✔' : '✘');
  const p99 = r.submitToAck.p99 ?? Infinity;
  const load = r.documentLoad.p95 ?? Infinity;
  const presence = typeof r.presence === 'string' ? undefined : (r.presence.p95 ?? Infinity);
  return [
    `- op latency p99 < 25 ms (1,000 users / 100 docs at typing speed): ${ms(r.submitToAck.p99)} at ${r.users} users / ${r.documents} docs ${check(p99 < 25)}`,
    `- presence p95 < 30 ms: ${presence === undefined ? 'not measured (this system has no presence in the bench)' : `${ms(presence)} ${check(presence < 30)}`}`,
    `- document load p95 < 100 ms: ${ms(r.documentLoad.p95)} ${check(load < 100)}`,
    `- 5,000 ops/s with p99 < 100 ms: ${r.ackedOpsPerSecond} acked ops/s (${r.keystrokesPerSecond} keystrokes/s), p99 ${ms(r.submitToAck.p99)} ${check(r.ackedOpsPerSecond >= 5000 && p99 < 100)}`,
    `- zero divergence: ${r.divergence.divergent} divergent, ${r.divergence.behind} behind ${check(r.divergence.divergent === 0 && r.divergence.behind === 0)}`,
  ];
}

export function markdown(options: LoadOptions, results: readonly RunResult[], extra: string[]): string {
  const table = rows(results);
  const header = ['', ...results.map((r) => r.target)];
  const lines = [
    `# bench:load — ${new Date().toISOString()}`,
    '',
    `\`npm run bench:load -- --users ${options.users} --docs ${options.docs} --hot-docs ${options.hotDocs} --hot-users ${options.hotUsers} --rate ${options.rate} --seconds ${options.seconds}${options.embedded ? ' --embedded' : ''}${options.url === undefined ? '' : ` --url ${options.url}`} --peer ${options.peers.join(',') || 'none'} --clients ${options.clients} --idle-seconds ${options.idleSeconds} --load-every-ms ${options.loadEveryMs} --partitions ${options.partitions} --drops ${options.drops} --seed ${options.seed} --servers ${options.servers} --user-processes ${options.userProcesses}\``,
    '',
    `Simulated users: ${results[0]?.userProcesses.length ?? options.userProcesses} user process(es) (whole documents each, see the user process rows), the servers in ${options.servers === 'processes' ? 'processes of their own' : 'the bench process'}.`,
    '',
    ...results.map((r) => `- **${r.target}**: ${r.description}`),
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
  const ours = results.find((r) => r.target.startsWith('collab'));
  if (ours !== undefined) lines.push('Targets (ours):', '', ...targets(ours), '');
  for (const r of results) {
    const containers = r.containers.during.map((c) => `${c.name} ${c.cpuPercent} CPU, ${c.memUsage}`).join('; ');
    if (containers !== '') lines.push(`Containers during the ${r.target} run: ${containers}`, '');
  }
  return [...lines, ...extra].join('\n');
}

export async function writeReport(
  options: LoadOptions,
  results: readonly RunResult[],
  context: Record<string, unknown>,
): Promise<string> {
  await mkdir(options.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = join(options.out, `bench-load-${stamp}`);
  // The first result is the system under test; every other one of the same run is a peer to compare with.
  const [ours, ...peers] = results;
  const ratioTable = Object.fromEntries(
    ours === undefined ? [] : peers.map((peer) => [peer.target, ratios(ours, peer)] as const),
  );
  const plotted = await writePlot(results, `${base}.svg`, `${base}.png`);
  const extra = [
    ...Object.entries(ratioTable).flatMap(([peer, table]) => [
      `${peer} ÷ ${ours!.target} (> 1: ${ours!.target} is faster or cheaper):`,
      '',
      ...Object.entries(table).map(([k, v]) => `- ${k}: ${v}`),
      '',
    ]),
    plotted ? `![keystroke → ack over time](${base.split('/').pop()}.png)` : `Plot: ${base}.svg`,
    '',
  ];
  const md = markdown(options, results, extra);
  await writeFile(`${base}.json`, JSON.stringify({ options, context, results, ratios: ratioTable }, null, 2));
  await writeFile(`${base}.md`, md);
  console.log(`\n${md}`);
  return base;
}
