/**
 * A central-server OT simulation, the model of the real pipeline. Clients apply local edits at once, send each
 * one immediately with the server version they have integrated (their base), keep them as pending until acked,
 * and transform incoming remote ops through their pending ops. The server transforms each incoming op against
 * the ops committed since its base version — the incoming op on the left, so its insert goes first on ties —
 * then commits it and sends it to everyone (an ack to its author).
 *
 * A client may have several ops in flight, so among the ops committed since an op's base are its author's own
 * earlier ones, which the op already includes: the server transforms it only against the others' ops, each kept
 * in the form that follows the author's own ops (the very form the client computes when it integrates them).
 * With one op in flight this is exactly ShareDB-style transformation.
 */
import type { TextOp } from '../../src/index.js';
import { Doc, type } from '../../src/index.js';

export interface Message {
  version: number;
  op: TextOp;
  author: number;
}

/** The pending-ops state machine shared by clients and the server's shadows of them. */
class PendingOps {
  version = 0;
  pending: TextOp[] = [];

  /** Integrate a committed message; returns the op to apply locally (null for our own ack). */
  integrate(msg: Message, self: number): TextOp | null {
    if (msg.version !== this.version) throw new Error(`expected version ${this.version}, got ${msg.version}`);
    this.version++;
    if (msg.author === self) {
      this.pending.shift();
      return null;
    }
    let remote = msg.op;
    this.pending = this.pending.map((mine) => {
      const mineAfter = type.transform(mine, remote, 'left');
      remote = type.transform(remote, mine, 'right');
      return mineAfter;
    });
    return remote;
  }
}

export class SimServer {
  doc: Doc;
  readonly log: Message[] = [];
  readonly outboxes: Message[][];
  /**
   * Per client: the committed ops from others it has not integrated yet, each rewritten to follow everything the
   * client has sent. Invariant: the client's document followed by these ops is the server's head.
   */
  private readonly unseen: Array<Array<{ version: number; op: TextOp }>>;

  constructor(initial: string, clients: number) {
    this.doc = Doc.fromString(initial);
    this.outboxes = Array.from({ length: clients }, () => []);
    this.unseen = Array.from({ length: clients }, () => []);
  }

  receive(author: number, baseVersion: number, op: TextOp): void {
    if (baseVersion > this.log.length) throw new Error(`base version ${baseVersion} is from the future`);
    const unseen = this.unseen[author]!;
    // Ops below the client's base are ones it has now integrated.
    while (unseen.length > 0 && unseen[0]!.version < baseVersion) unseen.shift();
    // Transform the incoming op (on the left) against every op committed since its base that it has not seen;
    // its author's own earlier ops are already part of its context. Keep the unseen ops following it.
    for (const entry of unseen) {
      const next = type.transform(op, entry.op, 'left');
      entry.op = type.transform(entry.op, op, 'right');
      op = next;
    }
    this.doc = type.apply(this.doc, op);
    const msg = { version: this.log.length, op, author };
    this.log.push(msg);
    for (let c = 0; c < this.outboxes.length; c++) {
      this.outboxes[c]!.push(msg);
      if (c !== author) this.unseen[c]!.push({ version: msg.version, op });
    }
  }
}

export class SimClient {
  doc: Doc;
  private readonly state = new PendingOps();

  constructor(
    readonly id: number,
    initial: string,
    private readonly server: SimServer,
  ) {
    this.doc = Doc.fromString(initial);
  }

  get version(): number {
    return this.state.version;
  }

  get pending(): number {
    return this.state.pending.length;
  }

  edit(op: TextOp): void {
    this.doc = type.apply(this.doc, op);
    this.state.pending.push(op);
    this.server.receive(this.id, this.state.version, op);
  }

  peek(): Message | undefined {
    return this.server.outboxes[this.id]![0];
  }

  receiveNext(): void {
    const msg = this.server.outboxes[this.id]!.shift();
    if (msg === undefined) throw new Error('no message to receive');
    const remote = this.state.integrate(msg, this.id);
    if (remote !== null) this.doc = type.apply(this.doc, remote);
  }

  drain(): void {
    while (this.peek() !== undefined) this.receiveNext();
  }
}
