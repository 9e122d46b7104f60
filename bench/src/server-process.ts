/**
 * The servers under test run in processes of their own, as in production: a server sharing the event loop of the
 * simulated users would measure the users' CPU as its own latency (with 200 users in one loop, every Kafka
 * round trip of the command-service waited ~20 ms for its turn). The parent keeps the users and the measures;
 * a child (server-child.ts) starts one server half and answers over IPC.
 *
 * Protocol: the child sends {type:'ready', url, description, containers}; the parent may send
 * {type:'prepare', docIds} (answered {type:'prepared'}) and sends {type:'close'} (answered {type:'closed'}, then
 * the child exits). A child that dies fails whatever waits on it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerHalf } from './server-child.js';

export interface ServerInfo {
  url: string;
  description: string;
  containers: string[];
  /** Processes outside the child's tree that serve it (PostgreSQL): their CPU counts as the server's. */
  helpers: { name: string; pid: number }[];
}

/** A server process's main thread over the typing time (see server-child.ts). */
export interface ServerMeasures {
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Share of the time runnable but waiting for a CPU; null off Linux. */
  waitingForCpu: number | null;
}

export interface ServerProcess extends ServerInfo {
  readonly name: string;
  readonly pid: number;
  prepare(docIds: readonly string[]): Promise<void>;
  /** Absent for a server in the bench's own process (whose loop the bench measures anyway). */
  measure?: { start(): Promise<void>; stop(): Promise<ServerMeasures> };
  close(): Promise<void>;
}

type ChildMessage =
  | ({ type: 'ready' } & ServerInfo)
  | { type: 'prepared' }
  | { type: 'closed' }
  | { type: 'measuring' }
  | ({ type: 'measured' } & ServerMeasures)
  | { type: 'failed'; error: string };

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/** The same server half in this process (`--servers in-process`): the old layout, for comparison. */
export async function startInProcess(name: string, start: () => Promise<ServerHalf>): Promise<ServerProcess> {
  const half = await start();
  return {
    url: half.url,
    description: half.description,
    containers: half.containers,
    helpers: half.helpers ?? [],
    name,
    pid: process.pid,
    prepare: (docIds) => half.prepare?.(docIds) ?? Promise.resolve(),
    close: () => half.close(),
  };
}

/** Extra node flags from an environment variable (space-separated). */
export function nodeArgs(variable: string): string[] {
  return (process.env[variable] ?? '').split(' ').filter((a) => a !== '');
}

/** Starts `kind` (see server-child.ts) with `args` in a child process; resolves once it serves. */
export function spawnServer(
  name: string,
  kind: string,
  args: unknown,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = fork(CHILD, [kind, JSON.stringify(args)], {
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server processes, e.g. `--cpu-prof --cpu-prof-dir=prof`.
    execArgv: ['--conditions=@collab/source', '--import', 'tsx', ...nodeArgs('BENCH_SERVER_NODE_ARGS')],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const early = (code: number | null) => reject(new Error(`server ${name} exited with ${code} before it served`));
    child.once('exit', early);
    child.once('message', (m: ChildMessage) => {
      if (m.type === 'failed') return reject(new Error(`server ${name} failed to start: ${m.error}`));
      if (m.type !== 'ready') return reject(new Error(`server ${name}: unexpected ${m.type}`));
      child.off('exit', early);
      resolve(handle(name, child, m));
    });
  });
}

function handle(name: string, child: ChildProcess, info: ServerInfo): ServerProcess {
  const ask = <T extends ChildMessage['type']>(
    message: object,
    answer: T,
  ): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`server ${name} exited with ${code}`));
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'failed') reject(new Error(`server ${name}: ${m.error}`));
        else if (m.type !== answer) return;
        else resolve(m as Extract<ChildMessage, { type: T }>);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  return {
    ...info,
    name,
    pid: child.pid!,
    prepare: async (docIds) => {
      await ask({ type: 'prepare', docIds }, 'prepared');
    },
    measure: {
      start: async () => {
        await ask({ type: 'measure-start' }, 'measuring');
      },
      stop: async () => {
        const { eventLoopDelayMs, waitingForCpu } = await ask({ type: 'measure-stop' }, 'measured');
        return { eventLoopDelayMs, waitingForCpu };
      },
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask({ type: 'close' }, 'closed').catch(() => child.kill('SIGKILL'));
      await exited;
    },
  };
}
