/**
 * `npm run bench:ops -- [--clients 50] [--docs 10] [--rate 5] [--seconds 20] [--url ws://…]`
 *
 * A smoke benchmark of the write path on the real stack: N clients over real WebSockets, spread over D documents,
 * each typing `rate` characters per second (one op in flight, like the SDK). Prints submit→ack and
 * submit→seen-by-others latency percentiles, throughput and errors. Without --url it starts a command-service
 * in this process against the integration stack's Kafka (started by the harness, or given by KAFKA_BROKERS...).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { percentile } from '@collab/infra';
import { freshTopic, startService, token } from '../test/support/service.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    docs: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    url: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run bench:ops -- [--clients N] [--docs D] [--rate OPS_PER_CLIENT_PER_S] [--seconds S] [--url WS_URL]',
  );
  process.exit(0);
}
const CLIENTS = Number(values.clients);
const DOCS = Number(values.docs);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

const ackLatency: number[] = [];
const remoteLatency: number[] = [];
const sentAt = new Map<string, number>(); // `${clientId}:${seq}` → ms
const errors = new Map<string, number>();

class BenchClient {
  private ws!: WebSocket;
  private version = 0;
  private length = 0;
  private seq = 0;
  private inflight = false;
  readonly id = randomUUID().slice(0, 8);

  constructor(private readonly docId: string) {}

  async connect(url: string): Promise<void> {
    this.ws = new WebSocket(url);
    await new Promise((resolve, reject) => this.ws.once('open', resolve).once('error', reject));
    const opened = new Promise<void>((resolve) => {
      this.ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Record<string, any>;
        if (m.t === 'welcome') this.ws.send(JSON.stringify({ t: 'open', docId: this.docId }));
        else if (m.t === 'snapshot') {
          this.version = m.version;
          this.length = Array.from(m.text as string).length;
          resolve();
        } else if (m.t === 'op') {
          this.version = m.version;
          this.length += 1; // every bench op inserts one character
          const sent = sentAt.get(`${m.clientId}:${m.seq}`);
          if (sent !== undefined) remoteLatency.push(performance.now() - sent);
        } else if (m.t === 'ack') {
          this.version = m.version;
          this.length += 1;
          this.inflight = false;
          const sent = sentAt.get(`${this.id}:${m.seq}`);
          if (sent !== undefined) ackLatency.push(performance.now() - sent);
        } else if (m.t === 'error') {
          errors.set(m.code, (errors.get(m.code) ?? 0) + 1);
          this.inflight = false;
        }
      });
    });
    this.ws.send(JSON.stringify({ t: 'auth', token: await token(`user-${this.id}`), protocol: 1 }));
    await opened;
  }

  type(): void {
    if (this.inflight) return; // one op in flight: a real client would compose; for latency we skip a beat
    this.inflight = true;
    this.seq++;
    const pos = Math.floor(Math.random() * (this.length + 1));
    const op = pos === 0 ? ['x'] : [pos, 'x'];
    sentAt.set(`${this.id}:${this.seq}`, performance.now());
    this.ws.send(
      JSON.stringify({
        t: 'submit',
        docId: this.docId,
        clientId: this.id,
        seq: this.seq,
        baseVersion: this.version,
        op,
      }),
    );
  }

  close(): void {
    this.ws.close();
  }
}

async function main(): Promise<void> {
  let url = values.url;
  let stop = async (): Promise<void> => {};
  if (url === undefined) {
    const topic = await freshTopic(Math.max(4, Math.min(DOCS, 12)));
    const svc = await startService(topic, {
      limits: {
        maxFrameBytes: 256 * 1024,
        maxOpInsertLength: 64 * 1024,
        maxOpComponents: 2048,
        maxDocumentLength: 16 * 1024 * 1024,
        maxDocuments: 64,
        maxUnacked: 256,
        opsPerSecond: 1000,
        messagesPerSecond: 5000,
      },
    });
    url = svc.url;
    stop = svc.stop;
  }
  const run = randomUUID().slice(0, 6);
  const clients = Array.from({ length: CLIENTS }, (_, i) => new BenchClient(`bench-${run}-${i % DOCS}`));
  await Promise.all(clients.map((c) => c.connect(url)));
  console.log(`# bench:ops — ${CLIENTS} clients, ${DOCS} documents, ${RATE} ops/s per client, ${SECONDS} s`);
  const started = performance.now();
  const timers = clients.map((c) => setInterval(() => c.type(), 1000 / RATE));
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  timers.forEach(clearInterval);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the last acks arrive
  const elapsed = (performance.now() - started) / 1000;
  for (const c of clients) c.close();
  await stop();

  const fmt = (xs: number[], p: number): string => (xs.length === 0 ? '-' : percentile(xs, p).toFixed(1));
  console.log(`  acked ops:           ${ackLatency.length} (${(ackLatency.length / elapsed).toFixed(0)} ops/s)`);
  console.log(
    `  submit → ack (ms):   p50 ${fmt(ackLatency, 50)}  p95 ${fmt(ackLatency, 95)}  p99 ${fmt(ackLatency, 99)}  max ${fmt(ackLatency, 100)}`,
  );
  console.log(
    `  submit → seen (ms):  p50 ${fmt(remoteLatency, 50)}  p95 ${fmt(remoteLatency, 95)}  p99 ${fmt(remoteLatency, 99)}  (${remoteLatency.length} deliveries)`,
  );
  console.log(`  errors:              ${errors.size === 0 ? 'none' : JSON.stringify(Object.fromEntries(errors))}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
