/**
 * CPU and memory: of this process (sampled every second: a user process, or the bench's parent), of the servers' processes
 * (by pid, from /proc) and of the stack's containers (`docker stats --no-stream`, a few times per run; each call takes ~2 s itself).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ProcessSample {
  second: number;
  /** CPU used in the last interval, in cores (1.0 = one core busy). */
  cpuCores: number;
  rssMiB: number;
  heapUsedMiB: number;
}

/** Linux clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

/**
 * A process's /proc/<pid>/stat, in CPU seconds: its own (utime + stime), its reaped children's (cutime + cstime),
 * and its parent; throws once it is gone (or not on Linux).
 */
function procStat(pid: number | string): { ppid: number; ownSeconds: number; childrenSeconds: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces, so split after its closing parenthesis), 0-based
  // from the state: state ppid … utime(11) stime(12) cutime(13) cstime(14).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    ownSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    childrenSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS,
  };
}

/** CPU seconds and RSS of another process, from /proc; undefined once it is gone (or not on Linux). */
function procUsage(pid: number): { cpuSeconds: number; rssMiB: number } | undefined {
  try {
    const cpuSeconds = procStat(pid).ownSeconds;
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuSeconds, rssMiB: rssKiB / 1024 };
  } catch {
    return undefined;
  }
}

interface Usage {
  cpuSeconds: number;
  rssMiB: number;
  heapUsedMiB: number;
}

/** One sample a second of a process's CPU (cores used since the last sample) and memory, from `probe`. */
class UsageSampler {
  readonly samples: ProcessSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last: { cpuSeconds: number; at: number } | undefined;
  private readonly started = performance.now();

  constructor(private readonly probe: () => Usage | undefined) {}

  start(): void {
    this.note(this.probe());
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  summary() {
    return summarize(this.samples);
  }

  private note(usage: Usage | undefined): void {
    if (usage !== undefined) this.last = { cpuSeconds: usage.cpuSeconds, at: performance.now() };
  }

  private sample(): void {
    const usage = this.probe();
    const now = performance.now();
    // Without a first reading there is no interval yet (a process not started, or gone).
    if (usage !== undefined && this.last !== undefined) {
      this.samples.push({
        second: Math.round((now - this.started) / 1000),
        cpuCores: (usage.cpuSeconds - this.last.cpuSeconds) / ((now - this.last.at) / 1000),
        rssMiB: usage.rssMiB,
        heapUsedMiB: usage.heapUsedMiB,
      });
    }
    this.note(usage);
  }
}

function summarize(samples: readonly ProcessSample[]) {
  const cpu = samples.map((s) => s.cpuCores);
  const rss = samples.map((s) => s.rssMiB);
  const avg = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    cpuCoresAvg: round(avg(cpu)),
    cpuCoresMax: round(Math.max(0, ...cpu)),
    rssMiBMax: round(Math.max(0, ...rss)),
    heapUsedMiBMax: round(Math.max(0, ...samples.map((s) => s.heapUsedMiB))),
  };
}

/** The samples of another process (a server under test), by pid, from /proc; heap is not visible from outside. */
export class PidSampler extends UsageSampler {
  constructor(
    readonly name: string,
    pid: number,
  ) {
    super(() => {
      const usage = procUsage(pid);
      return usage === undefined ? undefined : { ...usage, heapUsedMiB: 0 };
    });
  }
}

/** The samples of this process (a user process, or the bench's parent), heap included. */
export class ProcessSampler extends UsageSampler {
  constructor() {
    super(() => {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssMiB: memory.rss / 2 ** 20,
        heapUsedMiB: memory.heapUsed / 2 ** 20,
      };
    });
  }
}

const LOOP_RESOLUTION_MS = 10;

/**
 * Event-loop delay of this process (perf_hooks.monitorEventLoopDelay): how late a 10 ms timer fires, i.e. how long
 * a timer or socket event waits for the loop. Node records the whole interval, so the 10 ms are taken off.
 */
export class LoopDelay {
  private histogram: IntervalHistogram | undefined;

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.histogram.enable();
  }

  stop(): void {
    this.histogram?.disable();
  }

  /** Milliseconds. */
  summary(): { p50: number; p99: number; max: number } {
    const h = this.histogram;
    const ms = (ns: number | undefined) =>
      ns === undefined || !Number.isFinite(ns)
        ? 0
        : Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 100) / 100);
    return { p50: ms(h?.percentile(50)), p99: ms(h?.percentile(99)), max: ms(h?.max) };
  }
}

/**
 * This process's main thread (its event loop): nanoseconds on a CPU and runnable but waiting for one, from
 * /proc/self/schedstat (Linux); undefined elsewhere. Event-loop delay with little CPU and much waiting means the
 * box is oversubscribed, not that the process has too much to do.
 */
export function schedStat(): { runningNs: number; waitingNs: number } | undefined {
  try {
    const [running, waiting] = readFileSync('/proc/self/schedstat', 'utf8').trim().split(' ').map(Number);
    return running === undefined || waiting === undefined ? undefined : { runningNs: running, waitingNs: waiting };
  } catch {
    return undefined;
  }
}

/** The share of a span of wall time this process's main thread spent runnable but waiting for a CPU. */
export class CpuWait {
  private from: { at: number; sched: ReturnType<typeof schedStat> } | undefined;
  private share: number | null = null;

  start(): void {
    this.from = { at: performance.now(), sched: schedStat() };
  }

  stop(): void {
    const to = schedStat();
    const from = this.from;
    const spanNs = from === undefined ? 0 : (performance.now() - from.at) * 1e6;
    this.share =
      from?.sched === undefined || to === undefined || spanNs <= 0
        ? null
        : Math.round(((to.waitingNs - from.sched.waitingNs) / spanNs) * 100) / 100;
  }

  /** 0–1 (rounded to hundredths); null off Linux or before stop(). */
  summary(): number | null {
    return this.share;
  }
}

export interface ContainerStats {
  name: string;
  cpuPercent: string;
  memUsage: string;
}

/** One `docker stats --no-stream` of the named containers; [] when docker is not reachable. */
export async function dockerStats(names: readonly string[]): Promise<ContainerStats[]> {
  if (names.length === 0) return [];
  try {
    const { stdout } = await exec(
      'docker',
      ['stats', '--no-stream', '--format', '{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}', ...names],
      { timeout: 20_000 },
    );
    return stdout
      .trim()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [name = '', cpuPercent = '', memUsage = ''] = line.split('\t');
        return { name, cpuPercent, memUsage };
      });
  } catch {
    return [];
  }
}

/** The running containers that publish the ports of these endpoints (host:port or URLs). */
export async function stackContainers(endpoints: readonly (string | undefined)[]): Promise<string[]> {
  const ports = endpoints
    .filter((e): e is string => e !== undefined)
    .map((e) => /:(\d+)\/?$/.exec(e)?.[1])
    .filter((p): p is string => p !== undefined);
  try {
    const { stdout } = await exec('docker', ['ps', '--format', '{{.Names}}\t{{.Ports}}'], { timeout: 10_000 });
    return stdout
      .trim()
      .split('\n')
      .filter((line) => ports.some((port) => line.includes(`:${port}->`)))
      .map((line) => line.split('\t')[0]!)
      .filter((name) => name.length > 0);
  } catch {
    return [];
  }
}

/**
 * CPU seconds a container has used so far, from its cgroup (what operators pay for, and what `docker stats`
 * samples coarsely): cgroup v1 `cpuacct.usage` (ns), or v2 `cpu.stat` `usage_usec`; undefined when neither is
 * readable (not Linux, or the container is gone).
 */
export function containerCpuSeconds(id: string): number | undefined {
  const v1 = [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ];
  for (const path of v1) {
    try {
      return Number(readFileSync(path, 'utf8').trim()) / 1e9;
    } catch {
      // try the next layout
    }
  }
  for (const path of [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${id}/cpu.stat`,
  ]) {
    try {
      const usec = /usage_usec (\d+)/.exec(readFileSync(path, 'utf8'))?.[1];
      if (usec !== undefined) return Number(usec) / 1e6;
    } catch {
      // try the next layout
    }
  }
  return undefined;
}

/** The full ids of named containers (`docker inspect`), for their cgroups; [] when docker is not reachable. */
export async function containerIds(names: readonly string[]): Promise<{ name: string; id: string }[]> {
  if (names.length === 0) return [];
  try {
    const { stdout } = await exec('docker', ['inspect', '--format', '{{.Name}}\t{{.Id}}', ...names], {
      timeout: 20_000,
    });
    return stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([name, id]) => name !== undefined && id !== undefined)
      .map(([name, id]) => ({ name: name!.replace(/^\//, ''), id: id! }));
  } catch {
    return [];
  }
}

/** CPU seconds of a process so far (all its threads), from /proc; undefined once it is gone. */
export function pidCpuSeconds(pid: number): number | undefined {
  return procUsage(pid)?.cpuSeconds;
}

export type CpuRole = 'server' | 'container' | 'load generator';

export interface CpuSource {
  name: string;
  role: CpuRole;
  /** Cumulative CPU seconds, undefined when unreadable. */
  read(): number | undefined;
}

/** Where the CPU went between two marks: per source, in cores and in ms per op. */
export interface CpuSpan {
  seconds: number;
  sources: { name: string; role: CpuRole; cores: number | null }[];
}

/**
 * Cumulative CPU of every process and container of a run, read at marks (connected and idle, typing started,
 * typing stopped): differences of cumulative counters, so nothing between samples is missed, and a source that
 * was unreadable at either mark says so (null) instead of counting zero.
 */
export class CpuLedger {
  private readonly marks = new Map<string, { at: number; values: (number | undefined)[] }>();

  constructor(private readonly sources: readonly CpuSource[]) {}

  mark(label: string): void {
    this.marks.set(label, { at: performance.now(), values: this.sources.map((s) => s.read()) });
  }

  span(from: string, to: string): CpuSpan | undefined {
    const a = this.marks.get(from);
    const b = this.marks.get(to);
    if (a === undefined || b === undefined) return undefined;
    const seconds = (b.at - a.at) / 1000;
    return {
      seconds: Math.round(seconds * 10) / 10,
      sources: this.sources.map((s, i) => {
        const x = a.values[i];
        const y = b.values[i];
        return {
          name: s.name,
          role: s.role,
          cores:
            x === undefined || y === undefined || seconds <= 0 ? null : Math.round(((y - x) / seconds) * 1000) / 1000,
        };
      }),
    };
  }
}

/**
 * CPU seconds so far of a process and every live descendant (a server and the workers or databases it started),
 * plus what its reaped children used (cutime/cstime): from /proc; undefined once the root is gone.
 */
export function processTreeCpuSeconds(root: number): number | undefined {
  const stats = new Map<number, { ppid: number; seconds: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const name of entries) {
    try {
      const { ppid, ownSeconds, childrenSeconds } = procStat(name);
      stats.set(Number(name), { ppid, seconds: ownSeconds + childrenSeconds });
    } catch {
      // gone between the listing and the read
    }
  }
  if (!stats.has(root)) return undefined;
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    total += stats.get(pid)?.seconds ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}
