/** A DocumentSync wired to a recording host: what it sends is collected, its timers run on virtual time. */
import type { ClientMessage, ServerMessage, SyncEvents, SyncOptions, WireOp } from '../../src/index.js';
import { DocumentSync } from '../../src/index.js';
import { ManualScheduler } from '../../src/testing/index.js';

/** A submit as the SDK sends it: its op is a TextOp (the schema types it `unknown`: the server checks it later). */
export type SubmitSent = Extract<ClientMessage, { t: 'submit' }> & { op: WireOp['op'] };

export class SyncHarness {
  readonly scheduler = new ManualScheduler();
  readonly sent: ClientMessage[] = [];
  readonly events: Array<{ [K in keyof SyncEvents]: { type: K; payload: SyncEvents[K] } }[keyof SyncEvents]> = [];
  readonly sync: DocumentSync;
  /** The user this client is welcomed as (its own ops carry it). */
  static readonly USER = 'me-user';
  /** Who the connection is welcomed as now (a test may sign in as someone else). */
  user = SyncHarness.USER;
  private seq = 0;
  private clientIds = 0;

  constructor(options: SyncOptions = {}, clientId = 'me') {
    this.sync = new DocumentSync(
      'd',
      {
        clientId,
        nextSeq: () => ++this.seq,
        userId: () => this.user,
        newClientId: () => `${clientId}-${++this.clientIds}`,
        send: (m) => this.sent.push(m),
        schedule: (ms, fn) => this.scheduler.schedule(ms, fn),
      },
      options,
    );
    const names: Array<keyof SyncEvents> = [
      'change',
      'ack',
      'pending',
      'progress',
      'unsent',
      'pending-limit',
      'resync',
      'error',
      'load',
      'hash',
    ];
    for (const type of names) this.sync.events.on(type, (payload) => this.events.push({ type, payload } as never));
  }

  /** Connect and load `text` at `version`. */
  static loaded(text: string, version = 0, options: SyncOptions = {}): SyncHarness {
    const h = new SyncHarness(options);
    h.sync.connected();
    h.receive({ t: 'snapshot', docId: 'd', version, text });
    h.sent.length = 0;
    h.events.length = 0;
    return h;
  }

  receive(message: ServerMessage): void {
    this.sync.receive(message);
  }

  remote(version: number, op: WireOp['op'], clientId = 'other', seq = version, userId = 'u2'): void {
    this.receive({ t: 'op', docId: 'd', version, op, clientId, seq, userId, timestamp: 0 });
  }

  ack(seq: number, version: number): void {
    this.receive({ t: 'ack', docId: 'd', seq, version });
  }

  /** Submits sent so far (and forget them). */
  takeSubmits(): SubmitSent[] {
    const submits = this.sent.filter((m): m is SubmitSent => m.t === 'submit');
    this.sent.length = 0;
    return submits;
  }

  takeSent(): ClientMessage[] {
    return this.sent.splice(0);
  }

  of<K extends keyof SyncEvents>(type: K): Array<SyncEvents[K]> {
    return this.events.filter((e) => e.type === type).map((e) => e.payload as SyncEvents[K]);
  }
}
