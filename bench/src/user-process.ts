/**
 * The simulated users run in child processes of their own (`--user-processes`), not in the bench process: one
 * event loop with 200 users and their presence bookkeeping lagged ~210 ms at p99, so the load generator's own
 * queue was half of the measured keystroke → ack latency. Each child (user-child.ts) gets whole documents (every
 * client of a document in one process, so acks, deliveries and presence are matched where they happen, and the
 * convergence check runs there too), connects its users and reports back its Recorder's figures, its divergence
 * check, CPU, RSS and event-loop delay. The parent merges them (recorder.ts: percentiles of the union).
 *
 * Protocol (IPC): the child connects its users and sends {type:'connected'}; once every child has, the parent
 * sends {type:'go'} to all (a barrier: everyone starts typing together), later {type:'stop'}; the child then waits
 * for its acks, checks convergence, closes and sends {type:'result'} before it exits. {type:'failed'} or an exit
 * before the result fails the run with the child's error. Children exit when the parent's IPC channel closes
 * (whatever way the parent died), and the parent kills them when it exits or the run fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RecorderData } from './recorder.js';
import type { LoopDelay, ProcessSampler } from './resources.js';
import type { UserEndpoint } from './target.js';
import { nodeArgs } from './server-process.js';

export interface UserProcessArgs {
  name: string;
  endpoint: UserEndpoint;
  /** Global user indices (they seed the typists and name the users) and their documents. */
  users: { index: number; docId: string }[];
  /** The documents this process checks for convergence (all of its users' documents, and maybe empty ones). */
  docIds: string[];
  rate: number;
  seed: number;
  /** Our SDK, or the light client (targets/light-user.ts); ShareDB's users always use ShareDB's client. */
  clients: 'sdk' | 'light';
  /** Sockets to kill, `atMs` after "go" (global user indices, all of this process). */
  drops: { atMs: number; user: number }[];
}

export interface Divergence {
  documents: number;
  clients: number;
  divergent: number;
  behind: number;
  examples: string[];
}

export interface UserProcessResult {
  recorder: RecorderData;
  /** Users that still had keystrokes awaiting their ack 60 s after the typing stopped. */
  unsettled: number;
  divergence: Divergence;
  process: ReturnType<ProcessSampler['summary']>;
  eventLoopDelayMs: ReturnType<LoopDelay['summary']>;
  /** Share of the typing time its main thread was runnable but waiting for a CPU (null: not on Linux). */
  waitingForCpu: number | null;
}

export type UserChildMessage =
  | { type: 'connected'; presence: boolean }
  | { type: 'result'; result: UserProcessResult }
  | { type: 'failed'; error: string };

export type UserParentMessage = { type: 'go' } | { type: 'stop' };

const CHILD = fileURLToPath(new URL('./user-child.ts', import.meta.url));

/**
 * How long a child may take to connect its users, and to send its result after "stop" (it waits up to 60 s for
 * its acks, then opens its documents afresh to compare): generous, for a box loaded by the run itself, but a
 * child that hangs fails the run with its name instead of leaving the bench waiting for ever.
 */
export function deadlines(users: number): { connectMs: number; resultMs: number } {
  return { connectMs: 60_000 + 100 * users, resultMs: 120_000 + 100 * users };
}

interface Child {
  name: string;
  users: number;
  process: ChildProcess;
  connected: Promise<boolean>;
  result: Promise<UserProcessResult>;
}

export interface UserProcessOptions {
  /** Extra environment for the children. */
  env?: Record<string, string>;
  /** Overrides deadlines() (tests). */
  connectMs?: number;
  resultMs?: number;
  /** The child's module (tests); default user-child.ts. */
  module?: string;
}

export class UserProcesses {
  /** Rejects with the first child's failure (a crash, an error it reported, an exit before its result). */
  readonly failed: Promise<never>;
  private readonly killAll = () => this.kill();

  private constructor(
    private readonly children: Child[],
    private readonly options: UserProcessOptions,
  ) {
    this.failed = Promise.race(children.map((c) => c.result.then(() => new Promise<never>(() => {}))));
    this.failed.catch(() => {}); // observed through guard()
    process.on('exit', this.killAll);
  }

  /**
   * Forks one process per share and waits until every one has connected its users (or one failed, or one let
   * its deadline pass: then every child is killed).
   */
  static async start(shares: readonly UserProcessArgs[], options: UserProcessOptions = {}): Promise<UserProcesses> {
    const processes = new UserProcesses(
      shares.map((args) => spawn(args, options.env ?? {}, options.module ?? CHILD)),
      options,
    );
    await processes.within(
      'connect its users',
      (c) => c.connected,
      (c) => options.connectMs ?? deadlines(c.users).connectMs,
    );
    return processes;
  }

  get pids(): { name: string; pid: number }[] {
    return this.children.map((c) => ({ name: c.name, pid: c.process.pid! }));
  }

  /** Whether the users have presence (cursor updates) in this system. */
  async presence(): Promise<boolean> {
    return (await Promise.all(this.children.map((c) => c.connected))).some(Boolean);
  }

  /** `promise`, or the first failure of a child if that comes first. */
  guard<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.failed]);
  }

  go(): void {
    this.send({ type: 'go' });
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  /** Every child's result, once each has settled, checked convergence and closed its users. */
  results(): Promise<UserProcessResult[]> {
    return this.within(
      'send its result',
      (c) => c.result,
      (c) => this.options.resultMs ?? deadlines(c.users).resultMs,
    );
  }

  /** Each child's `step`, guarded by the first failure and by a deadline per child; kills them all if it fails. */
  private async within<T>(what: string, step: (c: Child) => Promise<T>, ms: (c: Child) => number): Promise<T[]> {
    const timers: NodeJS.Timeout[] = [];
    const timed = this.children.map(
      (c) =>
        new Promise<T>((resolve, reject) => {
          const limit = ms(c);
          timers.push(
            setTimeout(() => reject(new Error(`user process ${c.name} did not ${what} within ${limit} ms`)), limit),
          );
          step(c).then(resolve, reject);
        }),
    );
    try {
      return await this.guard(Promise.all(timed));
    } catch (err) {
      this.kill();
      throw err;
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }

  /** Kills the children still running (after a failure; they exit by themselves after their result). */
  kill(): void {
    process.off('exit', this.killAll);
    for (const c of this.children) {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    }
  }

  private send(message: UserParentMessage): void {
    for (const c of this.children) if (c.process.connected) c.process.send(message);
  }
}

function spawn(args: UserProcessArgs, env: Record<string, string>, module: string): Child {
  const child = fork(module, [JSON.stringify(args)], {
    // BENCH_USER_NODE_ARGS: extra node flags for the user processes, e.g. `--cpu-prof --cpu-prof-dir=prof`.
    execArgv: ['--conditions=@collab/source', '--import', 'tsx', ...nodeArgs('BENCH_USER_NODE_ARGS')],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let failure: Error | undefined;
  let connected!: (presence: boolean) => void;
  let result!: (r: UserProcessResult) => void;
  let fail!: (err: Error) => void;
  const connectedPromise = new Promise<boolean>((resolve) => (connected = resolve));
  const resultPromise = new Promise<UserProcessResult>((resolve, reject) => {
    result = resolve;
    fail = reject;
  });
  resultPromise.catch(() => {}); // observed through UserProcesses.failed
  child.on('message', (m: UserChildMessage) => {
    if (m.type === 'connected') connected(m.presence);
    else if (m.type === 'result') result(m.result);
    else if (m.type === 'failed') fail((failure = new Error(`user process ${args.name} failed: ${m.error}`)));
  });
  child.once('error', (err) => fail(new Error(`user process ${args.name}: ${err.message}`)));
  // 'close', not 'exit': it comes after the IPC channel has delivered everything, so a result is never missed.
  child.once('close', (code, signal) =>
    fail(failure ?? new Error(`user process ${args.name} exited (${signal ?? `code ${code}`}) before its result`)),
  );
  return {
    name: args.name,
    users: args.users.length,
    process: child,
    connected: connectedPromise,
    result: resultPromise,
  };
}
