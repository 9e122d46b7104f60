/**
 * The simulated users of bench:presence: WebSocket clients (the `ws` package) that open their documents, move
 * their cursors on a timer, and time every update of another user of their document from that user's `send` to
 * the moment it is seen. All users of a document live in the same group (one child process, or the bench's own
 * process with --client-procs 0), so the send and the receipt are timed on the same clock.
 *
 * Run as a child process (`bench-presence.ts` forks this file), it is driven over IPC: `init` → `ready`, then
 * `start` (cursors start moving), `measure` (from here every delivery is timed and CPU and event-loop delay are
 * sampled), `stop` → `result`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { signDevToken } from '../src/index.js';

export interface ClientsConfig {
  secret: string;
  /**
   * Each document and the users in it, each with the server (instance) it connects to; a `writer` writes the
   * document's text on its instance (one per instance, so every instance holds the same text at version 1).
   */
  docs: Array<{ docId: string; users: Array<{ userId: string; url: string; writer: boolean }> }>;
  intervalMs: number;
  textLength: number;
  /** Record every send and every receipt with absolute timestamps (for the server's stage breakdown). */
  trace: boolean;
}

export interface ClientsResult {
  /** update → seen-by-others, one per delivery, ms. */
  latencies: number[];
  /** The deliveries among them whose sender is connected to another instance (they went through the bus). */
  cross: number[];
  updates: number;
  /** Deliveries expected but not seen before `stop` (other users of the document × updates − seen). */
  expected: number;
  /** CPU time of this process while measuring (user + system), ms, and the wall time it was measured over. */
  cpuMs: number;
  wallMs: number;
  /** Event-loop delay of this process while measuring (lateness of a 5 ms timer): p50 / p99 / max, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** With `trace`: `${sessionId}:${anchor}` → absolute time (performance.timeOrigin + now) of the send / receipts. */
  sends?: Array<[string, number]>;
  seen?: Array<[string, number]>;
}

type Msg = Record<string, unknown> & { t: string };

interface User {
  ws: WebSocket;
  sessionId: string;
  docId: string;
  writer: boolean;
}

/** Which instance each session is connected to (by URL). */
const instanceOf = new Map<string, string>();

const now = () => performance.timeOrigin + performance.now();
/** The event-loop delay histogram times a timer of this period; what is reported is the lateness beyond it. */
const LOOP_RESOLUTION_MS = 5;
const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);

export class BenchClients {
  private readonly users: User[] = [];
  private readonly sentAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  private readonly cross: number[] = [];
  private readonly sends: Array<[string, number]> = [];
  private readonly seen: Array<[string, number]> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly othersIn = new Map<string, number>();
  private measuring = false;
  private updates = 0;
  private expected = 0;
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private wallAtStart = 0;
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  constructor(private readonly config: ClientsConfig) {}

  /** Connect every user (in batches of 50), open the documents, write each document's text. */
  async connect(): Promise<void> {
    const all = this.config.docs.flatMap((d) => d.users.map((u) => ({ ...u, docId: d.docId })));
    for (const d of this.config.docs) this.othersIn.set(d.docId, d.users.length - 1);
    for (let start = 0; start < all.length; start += 50) {
      const batch = await Promise.all(
        all.slice(start, start + 50).map((u) => this.connectOne(u.userId, u.url, u.docId, u.writer)),
      );
      this.users.push(...batch);
    }
  }

  start(): void {
    const { intervalMs, textLength } = this.config;
    this.users.forEach((u, i) => {
      let seq = i % textLength;
      const tick = () => {
        seq = (seq + 1) % textLength;
        const key = `${u.sessionId}:${seq}`;
        const t = now();
        this.sentAt.set(key, t);
        if (this.measuring) {
          this.updates++;
          this.expected += this.othersIn.get(u.docId) ?? 0;
          if (this.config.trace) this.sends.push([key, t]);
        }
        u.ws.send(JSON.stringify({ t: 'presence', docId: u.docId, version: 1, cursor: { anchor: seq, head: seq } }));
      };
      // Spread the users over the interval, then each ticks every interval ± 10 %.
      const again = () => {
        tick();
        this.schedule(again, intervalMs * (0.9 + Math.random() * 0.2));
      };
      this.schedule(again, Math.random() * intervalMs);
    });
  }

  measure(): void {
    this.measuring = true;
    this.cpuAtStart = process.cpuUsage();
    this.wallAtStart = performance.now();
    this.loop.enable();
  }

  stop(): ClientsResult {
    this.measuring = false;
    this.loop.disable();
    const cpu = process.cpuUsage(this.cpuAtStart);
    const wallMs = performance.now() - this.wallAtStart;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const u of this.users) u.ws.close();
    return {
      latencies: this.latencies,
      cross: this.cross,
      updates: this.updates,
      expected: this.expected,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      loopDelay: {
        p50: late(this.loop.percentile(50)),
        p99: late(this.loop.percentile(99)),
        max: late(this.loop.max),
      },
      ...(this.config.trace ? { sends: this.sends, seen: this.seen } : {}),
    };
  }

  private schedule(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private async connectOne(userId: string, url: string, docId: string, writer: boolean): Promise<User> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const token = await signDevToken({ secret: this.config.secret, userId, docs: { '*': ['read', 'write'] } });
    const welcome = new Promise<Msg>((resolve) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Msg;
        if (m.t === 'welcome') resolve(m);
        else if (this.measuring) this.onMessage(m, url);
      });
    });
    ws.send(JSON.stringify({ t: 'auth', token, protocol: 1 }));
    const sessionId = String((await welcome).sessionId);
    instanceOf.set(sessionId, url);
    ws.send(JSON.stringify({ t: 'open', docId }));
    if (writer) {
      // One user per document writes the text the cursors move over.
      const op = ['x'.repeat(this.config.textLength)];
      ws.send(JSON.stringify({ t: 'submit', docId, clientId: sessionId, seq: 1, baseVersion: 0, op }));
    }
    return { ws, sessionId, docId, writer };
  }

  private onMessage(m: Msg, receiverUrl: string): void {
    if (m.t !== 'presence' || m.update === undefined) return;
    const u = m.update as { sessionId: string; cursor?: { anchor: number } };
    const key = `${u.sessionId}:${u.cursor?.anchor}`;
    const t0 = this.sentAt.get(key);
    if (t0 === undefined) return;
    const t = now();
    this.latencies.push(t - t0);
    if (instanceOf.get(u.sessionId) !== receiverUrl) this.cross.push(t - t0);
    if (this.config.trace) this.seen.push([key, t]);
  }
}

// ---- as a child process ---------------------------------------------------------------------------------------

type Command = { cmd: 'init'; config: ClientsConfig } | { cmd: 'start' } | { cmd: 'measure' } | { cmd: 'stop' };

if (process.send !== undefined && process.env.BENCH_PRESENCE_CLIENTS === '1') {
  let clients: BenchClients | undefined;
  const reply = (message: unknown) => process.send!(message);
  process.on('message', (message: Command) => {
    void (async () => {
      switch (message.cmd) {
        case 'init':
          clients = new BenchClients(message.config);
          await clients.connect();
          reply({ ev: 'ready' });
          return;
        case 'start':
          clients!.start();
          return;
        case 'measure':
          clients!.measure();
          return;
        case 'stop':
          reply({ ev: 'result', result: clients!.stop() });
          return;
      }
    })().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
  process.on('disconnect', () => process.exit(0));
}
