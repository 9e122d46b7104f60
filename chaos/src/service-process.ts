/**
 * One service of the run as a real process (`node --conditions=@collab/source --import tsx <entry>`, configured by
 * its environment as an operator would), which the fault schedule kills (SIGKILL), freezes (SIGSTOP/SIGCONT) and
 * starts again. Ready when it prints its `{"ready":true,...}` line. Its output goes to a log file of the run, and
 * every start puts the process in a cgroup of its own, so a network partition can be aimed at it (isolation.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ServiceSpec {
  name: string;
  /** The entry point and its arguments, relative to the repository. */
  args: string[];
  env: Record<string, string>;
}

export interface ProcessHooks {
  /** Called with the pid right after each spawn (before it is ready): the partition's cgroup. */
  onSpawn?(pid: number): void;
  /** It exited without being told to (a crash, a fatal error): the run restarts it, as Kubernetes would. */
  onUnexpectedExit?(code: number | null, signal: NodeJS.Signals | null): void;
}

/** Every child alive, so that however the run ends (even a crash of its own) none outlives it. */
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private frozen = false;
  /** Set by kill/stop: the exit that follows is ours, not a crash. */
  private expectExit = false;
  /** Set once the ready line is seen: only a ready process that exits on its own has crashed. */
  private wasReady = false;
  /** Exits nobody asked for, over the run. */
  crashes = 0;
  private readonly tail: string[] = [];
  private readonly out: WriteStream;
  starts = 0;

  constructor(
    readonly spec: ServiceSpec,
    private readonly repo: string,
    logPath: string,
    private readonly hooks: ProcessHooks = {},
  ) {
    this.out = createWriteStream(logPath, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get paused(): boolean {
    return this.frozen;
  }

  /** Spawns it and resolves once it is ready; rejects (with its last lines) if it exits or is not ready in time. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child !== undefined) throw new Error(`${this.spec.name} is already running`);
    this.starts++;
    this.out.write(`--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ['--conditions=@collab/source', '--import', 'tsx', ...this.spec.args], {
      cwd: this.repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...this.spec.env },
    });
    this.child = child;
    alive.add(child);
    this.frozen = false;
    this.expectExit = false;
    this.wasReady = false;
    if (child.pid !== undefined) this.hooks.onSpawn?.(child.pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.out.write(`--- exited (${code ?? signal}) at ${new Date().toISOString()}\n`);
        alive.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
        if (!this.expectExit && this.wasReady) {
          this.crashes++;
          this.hooks.onUnexpectedExit?.(code, signal);
        }
      }),
    );
    const ready = new Promise<void>((resolve, reject) => {
      const onLine = (line: string) => {
        this.out.write(`${line}\n`);
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        if (line.startsWith('{"ready":true')) {
          this.wasReady = true;
          resolve();
        }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      void this.exited.then(() => reject(new Error(`${this.spec.name} exited before ready:\n${this.lastLines()}`)));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.spec.name} not ready within ${timeoutMs} ms:\n${this.lastLines()}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no drain, no clean close of its Kafka producer or consumers. Resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.expectExit = true;
    child.kill('SIGKILL');
    await this.exited;
    this.frozen = false;
  }

  /** SIGSTOP: the process keeps its sockets and its Kafka session lapses while it cannot answer. */
  pause(): void {
    if (this.child === undefined || this.frozen) return;
    this.child.kill('SIGSTOP');
    this.frozen = true;
  }

  resume(): void {
    if (this.child === undefined || !this.frozen) return;
    this.child.kill('SIGCONT');
    this.frozen = false;
  }

  /** SIGTERM (after SIGCONT, so a frozen one can act on it); SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.expectExit = true;
    this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Starts it, and again every 2 s while it exits before ready (it does while a backend it needs at start is
   * down), up to `deadlineMs`.
   */
  async startWithRetry(deadlineMs: number, say: (line: string) => void): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start(Math.min(90_000, Math.max(1_000, deadline - Date.now())));
        return;
      } catch (err) {
        await this.kill();
        if (Date.now() > deadline) throw err;
        say(
          `  ${this.spec.name} did not start (attempt ${attempt}), again in 2 s: ${(err as Error).message.split('\n')[0]}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  }

  lastLines(): string {
    return this.tail.map((l) => `  | ${l}`).join('\n');
  }

  close(): void {
    this.out.end();
  }
}
