/**
 * A server half of a bench target, in a process of its own (see server-process.ts):
 * `server-child.ts <kind> <json args>`, driven over IPC.
 */
import { CpuWait, LoopDelay } from './resources.js';
import { startCollabServers, type CollabServerArgs } from './targets/collab.js';
import { startShareDbServer, type ShareDbServerArgs } from './targets/sharedb.js';

/** What a server half gives the parent. */
export interface ServerHalf {
  url: string;
  description: string;
  containers: string[];
  /** Processes of this server outside its own process tree (e.g. a daemonized database), for the CPU figures. */
  helpers?: { name: string; pid: number }[];
  prepare?(docIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const starters: Record<string, (args: never) => Promise<ServerHalf>> = {
  collab: (args: CollabServerArgs) => startCollabServers(args),
  sharedb: (args: ShareDbServerArgs) => startShareDbServer(args),
};

// The bench process is gone (however it died): so is this server, no orphan keeps serving.
process.on('disconnect', () => process.exit(2));

async function main(): Promise<void> {
  const [kind = '', raw = '{}'] = process.argv.slice(2);
  const start = starters[kind];
  if (start === undefined) throw new Error(`unknown server kind ${kind}`);
  const server = await start(JSON.parse(raw) as never);
  // Over the typing time (the parent says when): how late this server's event loop ran, and how much of the
  // time its main thread waited for a CPU — what tells "too much to do" from "the box is oversubscribed".
  const loop = new LoopDelay();
  const cpuWait = new CpuWait();
  process.on('message', (m: { type: string; docIds?: string[] }) => {
    void (async () => {
      try {
        if (m.type === 'measure-start') {
          loop.start();
          cpuWait.start();
          process.send!({ type: 'measuring' });
        } else if (m.type === 'measure-stop') {
          loop.stop();
          cpuWait.stop();
          process.send!({ type: 'measured', eventLoopDelayMs: loop.summary(), waitingForCpu: cpuWait.summary() });
        } else if (m.type === 'prepare') {
          await server.prepare?.(m.docIds ?? []);
          process.send!({ type: 'prepared' });
        } else if (m.type === 'close') {
          await server.close();
          process.send!({ type: 'closed' }, () => process.exit(0));
        }
      } catch (err) {
        process.send!({ type: 'failed', error: String((err as Error).stack ?? err) });
      }
    })();
  });
  process.send!({
    type: 'ready',
    url: server.url,
    description: server.description,
    containers: server.containers,
    helpers: server.helpers ?? [],
  });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String((err as Error).stack ?? err) }, () => process.exit(1));
});
