/**
 * The faults that need the operating system, and their undoing:
 *  - a network partition between one service process and the brokers: the process lives in a cgroup (v2) of its
 *    own, and an iptables rule matching that cgroup drops its packets to the brokers' ports; everything else
 *    (its clients, Redis) still reaches it. Needs root, a cgroup2 mount and iptables' cgroup match.
 *  - a slow network on one broker: a token-bucket qdisc (tc tbf) on the container's interface, entered with
 *    nsenter. (netem's delay would be the usual choice; this kernel has no sch_netem, tbf is there: a link of a
 *    few hundred kbit/s that queues up to 400 ms.)
 *  - stopping and starting a container (Cassandra, Redis, S3, a broker) with the docker CLI.
 * Everything applied is remembered, and `cleanup()` undoes it whatever state the run ended in.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function sh(command: string, args: string[]): Promise<string> {
  try {
    return (await run(command, args, { timeout: 120_000 })).stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, {
      cause: err,
    });
  }
}

/** Where cgroup v2 is mounted (the unified hierarchy), if anywhere. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2') return mountPoint;
  }
  return undefined;
}

export class Isolation {
  private readonly root: string;
  private readonly group: string;
  private readonly rules = new Map<string, string[]>();
  private readonly shaped = new Set<string>();

  private constructor(root: string, runId: string) {
    this.root = root;
    this.group = `collab-chaos-${runId}`;
    mkdirSync(join(this.root, this.group), { recursive: true });
  }

  /** Checks every prerequisite once, with a rule that matches nothing; a clear error says which one is missing. */
  static async create(runId: string): Promise<Isolation> {
    if (process.getuid?.() !== 0) throw new Error('the chaos run needs root (cgroups, iptables, tc)');
    const root = cgroup2Root();
    if (root === undefined) throw new Error('no cgroup2 mount in /proc/mounts: network partitions need cgroup v2');
    const isolation = new Isolation(root, runId);
    const probe = ['OUTPUT', '-m', 'cgroup', '--path', isolation.group, '-p', 'tcp', '--dport', '1', '-j', 'DROP'];
    await sh('iptables', ['-I', ...probe]);
    await sh('iptables', ['-D', ...probe]);
    await sh('tc', ['-V']);
    await sh('nsenter', ['--version']);
    return isolation;
  }

  /** Puts a (just spawned) process into the cgroup of `name`. */
  join(name: string, pid: number): void {
    const dir = join(this.root, this.group, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  }

  /** Drops every packet the processes of `name` send to `ports` on 127.0.0.1 (the brokers' published ports). */
  async partition(name: string, ports: readonly number[]): Promise<void> {
    if (this.rules.has(name)) return;
    const rule = ['OUTPUT', '-m', 'cgroup', '--path', `${this.group}/${name}`, '-p', 'tcp', '-d', '127.0.0.1'];
    rule.push('-m', 'multiport', '--dports', ports.join(','), '-j', 'DROP');
    await sh('iptables', ['-I', ...rule]);
    this.rules.set(name, rule);
  }

  async heal(name: string): Promise<void> {
    const rule = this.rules.get(name);
    if (rule === undefined) return;
    await sh('iptables', ['-D', ...rule]);
    this.rules.delete(name);
  }

  /** A slow link out of a container: about 512 kbit/s with up to 400 ms of queue. */
  async slowLink(container: string): Promise<void> {
    const pid = await containerPid(container);
    const tbf = ['root', 'tbf', 'rate', '512kbit', 'burst', '32kbit', 'latency', '400ms'];
    await sh('nsenter', ['-t', pid, '-n', 'tc', 'qdisc', 'replace', 'dev', 'eth0', ...tbf]);
    this.shaped.add(container);
  }

  async fastLink(container: string): Promise<void> {
    if (!this.shaped.delete(container)) return;
    const pid = await containerPid(container).catch(() => undefined);
    // A container stopped meanwhile came back with a fresh interface: nothing to undo.
    if (pid !== undefined && pid !== '0') {
      await sh('nsenter', ['-t', pid, '-n', 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']).catch(() => {});
    }
  }

  /** Undoes every rule and qdisc, and removes the cgroups (once their processes are gone). */
  async cleanup(): Promise<void> {
    for (const name of [...this.rules.keys()]) await this.heal(name).catch(() => {});
    for (const container of [...this.shaped]) await this.fastLink(container).catch(() => {});
    const base = join(this.root, this.group);
    const children = readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory());
    for (const child of children) {
      try {
        rmdirSync(join(base, child.name));
      } catch {
        // Still holds a process (not yet reaped): an empty directory, harmless; the next run uses another name.
      }
    }
    try {
      rmdirSync(base);
    } catch {
      // as above
    }
  }
}

async function containerPid(container: string): Promise<string> {
  return sh('docker', ['inspect', '-f', '{{.State.Pid}}', container]);
}

/** `docker stop -t 0` (SIGKILL at once: a machine lost) or a clean stop with `graceSeconds`. */
export async function stopContainer(container: string, graceSeconds = 0): Promise<void> {
  await sh('docker', ['stop', '-t', String(graceSeconds), container]);
}

export async function startContainer(container: string): Promise<void> {
  await sh('docker', ['start', container]);
}
