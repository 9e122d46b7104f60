/**
 * A user process of bench:load (see user-process.ts): `user-child.ts <json UserProcessArgs>`, driven over IPC.
 * Connects its users (each its own SDK client and WebSocket), types from "go" to "stop", kills the sockets it was
 * told to, then waits for every keystroke's ack, opens each of its documents fresh (timed as a load) and compares
 * every client's text with it, and sends its figures back.
 */
import { Recorder } from './recorder.js';
import { CpuWait, LoopDelay, ProcessSampler } from './resources.js';
import type { SimConnection, SimDocument } from './target.js';
import { userConnector } from './targets/users.js';
import { Typist } from './typist.js';
import type { Divergence, UserChildMessage, UserParentMessage, UserProcessArgs } from './user-process.js';

interface User {
  index: number;
  connection: SimConnection;
  doc: SimDocument;
  docId: string;
  typist: Typist;
}

const send = (message: UserChildMessage, then: () => void = () => {}) => process.send!(message, then);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The parent is gone (however it died): so are we, no orphan keeps typing.
process.on('disconnect', () => process.exit(2));
const fail = (err: unknown) => {
  const error = String((err as Error)?.stack ?? err);
  if (process.connected) send({ type: 'failed', error }, () => process.exit(1));
  else process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const received = new Set<UserParentMessage['type']>();
const waiters = new Map<UserParentMessage['type'], () => void>();
process.on('message', (m: UserParentMessage) => {
  received.add(m.type);
  waiters.get(m.type)?.();
});
const message = (type: UserParentMessage['type']) =>
  new Promise<void>((resolve) => (received.has(type) ? resolve() : waiters.set(type, resolve)));

/** The document without its presence (no `setCursor`: the typist then sends no cursor). */
function withoutPresence(doc: SimDocument): SimDocument {
  return new Proxy(doc, { get: (target, key) => (key === 'setCursor' ? undefined : Reflect.get(target, key, target)) });
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as UserProcessArgs;
  const connect = userConnector(args.endpoint, args.clients);
  const recorder = new Recorder();
  const users: User[] = [];
  await inBatches(args.users, 50, async ({ index, docId }) => {
    const connection = await connect(`user-${index}`, recorder, index);
    const opened = await connection.open(docId);
    // Light users send no cursors, whatever the system: its peers measured with the same workload.
    const doc = args.clients === 'light' ? withoutPresence(opened) : opened;
    users.push({ index, connection, doc, docId, typist: new Typist(doc, args.rate, args.seed * 100_003 + index) });
  });
  const presence = users.length > 0 && users[0]!.doc.setCursor !== undefined;
  send({ type: 'connected', presence });

  await message('go');
  const sampler = new ProcessSampler();
  const loop = new LoopDelay();
  sampler.start();
  loop.start();
  recorder.startClock();
  const cpuWait = new CpuWait();
  cpuWait.start();
  for (const user of users) user.typist.start();
  const byIndex = new Map(users.map((u) => [u.index, u]));
  const dropTimers = args.drops.map(({ atMs, user }) => setTimeout(() => byIndex.get(user)?.connection.drop(), atMs));

  await message('stop');
  for (const user of users) user.typist.stop();
  for (const t of dropTimers) clearTimeout(t);
  sampler.stop();
  loop.stop();
  cpuWait.stop();
  const waitingForCpu = cpuWait.summary();
  await until(() => users.every((u) => u.doc.pending === 0), 60_000);
  const unsettled = users.filter((u) => u.doc.pending > 0).length;

  const divergence: Divergence = {
    documents: args.docIds.length,
    clients: users.length,
    divergent: 0,
    behind: 0,
    examples: [],
  };
  const verifier = await connect(`verifier-${args.name}`, recorder);
  await inBatches(args.docIds, 10, async (docId) => {
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
  await Promise.allSettled([...users.map((u) => u.connection.close()), verifier.close()]);
  send(
    {
      type: 'result',
      result: {
        recorder: recorder.data(),
        unsettled,
        divergence,
        process: sampler.summary(),
        eventLoopDelayMs: loop.summary(),
        waitingForCpu,
      },
    },
    () => process.exit(0),
  );
}

main().catch(fail);
