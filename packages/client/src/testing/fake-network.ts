/**
 * An in-memory network between CollabClients and the SimServer, on virtual time.
 *
 * Like TCP, each direction of one connection delivers in order; different connections interleave freely (random
 * delays), so one client's ack can overtake another client's op. On top of that it can:
 * - drop a connection: frames the client sent shortly before the break may still reach the server (a random
 *   cut-off), the rest are lost, and nothing more reaches the client;
 * - refuse a connection attempt;
 * - deliver a frame twice (server to client: any doc message; client to server: submits) — TCP would not, but
 *   proxies and buggy retries do, and the protocol must shrug it off.
 */
import type { SocketConstructor, SocketLike } from '../socket.js';
import type { ManualScheduler } from './manual-scheduler.js';
import type { Rng } from './rng.js';
import type { SimServer } from './sim-server.js';
import { SimSession } from './sim-server.js';

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
  /** Probability that a frame is delivered twice. */
  duplicate: number;
  /** Probability that a connection attempt is refused. */
  refuse: number;
}

/** One direction of one connection: FIFO, with random delays. */
class Pipe {
  private last = 0;
  constructor(
    private readonly net: FakeNetwork,
    private readonly alive: () => boolean,
  ) {}
  deliver(fn: () => void): void {
    const at = Math.max(this.last, this.net.scheduler.now() + this.net.delay());
    this.last = at;
    this.net.scheduler.schedule(at - this.net.scheduler.now(), () => {
      if (this.alive()) fn();
    });
  }
}

export class Connection {
  /** Frames from the client reach the server until this time (set when the connection breaks). */
  cutoff = Infinity;
  open = true;
  readonly session: SimSession;
  readonly toServer: Pipe;
  readonly toClient: Pipe;

  constructor(
    readonly net: FakeNetwork,
    readonly socket: FakeSocket,
  ) {
    this.session = new SimSession(net.server, (frame) => this.sendToClient(frame));
    this.toServer = new Pipe(net, () => net.scheduler.now() <= this.cutoff);
    this.toClient = new Pipe(net, () => this.open);
  }

  sendToClient(frame: string): void {
    this.net.framesToClient.push(frame);
    const copies = frame.includes('"docId"') && this.net.rng.chance(this.net.options.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.toClient.deliver(() => this.socket.onmessage?.({ data: frame }));
  }

  sendToServer(frame: string): void {
    this.net.framesToServer.push(frame);
    const copies = frame.startsWith('{"t":"submit"') && this.net.rng.chance(this.net.options.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.toServer.deliver(() => this.session.receive(frame));
  }

  /** Break the connection (network failure or a close from either side). */
  break(): void {
    if (!this.open) return;
    this.open = false;
    this.socket.readyState = 3;
    // What the client sent in the last moments may still arrive; then the server notices the close.
    this.cutoff = this.net.scheduler.now() + this.net.rng.int(this.net.options.maxDelayMs + 1);
    this.net.scheduler.schedule(this.cutoff - this.net.scheduler.now(), () => this.session.disconnected());
    this.net.scheduler.schedule(this.net.delay(), () => this.socket.onclose?.({ code: 1006 }));
    this.net.connections.delete(this);
  }
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  connection: Connection | undefined;

  send(data: string): void {
    if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
    this.connection!.sendToServer(data);
  }

  close(): void {
    if (this.readyState >= 2) return;
    if (this.connection === undefined) {
      this.readyState = 3;
      return;
    }
    this.connection.break();
  }
}

export class FakeNetwork {
  readonly connections = new Set<Connection>();
  /** Every frame any client sent (whether or not it arrived), for assertions. */
  readonly framesToServer: string[] = [];
  /** Every frame the server sent (whether or not it arrived), for assertions. */
  readonly framesToClient: string[] = [];
  readonly options: NetworkOptions;
  attempts = 0;

  constructor(
    readonly scheduler: ManualScheduler,
    readonly rng: Rng,
    readonly server: SimServer,
    options: Partial<NetworkOptions> = {},
  ) {
    this.options = { minDelayMs: 1, maxDelayMs: 40, duplicate: 0, refuse: 0, ...options };
  }

  delay(): number {
    const { minDelayMs, maxDelayMs } = this.options;
    return minDelayMs + this.rng.int(maxDelayMs - minDelayMs + 1);
  }

  /** The constructor to hand to CollabClient as `WebSocket`. */
  get WebSocket(): SocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const net = this;
    return class extends FakeSocket {
      constructor(_url: string) {
        super();
        net.attempts++;
        const refused = net.rng.chance(net.options.refuse);
        net.scheduler.schedule(net.delay(), () => {
          if (this.readyState !== 0) return; // closed before it opened
          if (refused) {
            this.readyState = 3;
            this.onerror?.({});
            this.onclose?.({ code: 1006 });
            return;
          }
          const connection = new Connection(net, this);
          this.connection = connection;
          net.connections.add(connection);
          this.readyState = 1;
          this.onopen?.({});
        });
      }
    };
  }

  /** Break one random live connection. */
  dropRandom(): boolean {
    const live = [...this.connections];
    if (live.length === 0) return false;
    this.rng.pick(live).break();
    return true;
  }
}
