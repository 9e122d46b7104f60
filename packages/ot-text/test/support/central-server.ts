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
  /** Ops sent and not acked yet: `ops[head..]` (a queue; acked ops are dropped from the front). */
  private ops: TextOp[] = [];
  private head = 0;

  get length(): number {
    return this.ops.length - this.head;
  }

  push(op: TextOp): void {
    this.ops.push(op);
  }

  /** Integrate a committed message; returns the op to apply locally (null for our own ack). */
  integrate(msg: Message, self: number): TextOp | null {
    if (msg.version !== this.version) throw new Error(`expected version ${this.version}, got ${msg.version}`);
    this.version++;
    const ops = this.ops;
    if (msg.author === self) {
      this.head++;
      if (this.head === ops.length) {
        ops.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= ops.length) {
        ops.splice(0, this.head);
        this.head = 0;
      }
      return null;
    }
    // Transform the remote op through each pending op, and each pending op past the remote op.
    let remote = msg.op;
    for (let i = this.head; i < ops.length; i++) {
      const mine = ops[i]!;
      ops[i] = type.transform(mine, remote, 'left');
      remote = type.transform(remote, mine, 'right');
    }
    return remote;
  }
}

export class SimServer {
  doc: Doc;
  /** Every committed message, in version order. */
  readonly log: Message[] = [];
  /**
   * Per client: the version of the next message to deliver. Every committed message goes to every client (an
   * ack to its author), in order, so a client's outbox is the log from there on.
   */
  private readonly delivered: number[];
  /**
   * Per client: the committed ops from others it has not integrated yet, each rewritten to follow everything the
   * client has sent — `unseen[c][unseenHead[c]..]`, a queue. Invariant: the client's document followed by these
   * ops is the server's head.
   */
  private readonly unseen: Array<Array<{ version: number; op: TextOp }>>;
  private readonly unseenHead: number[];

  constructor(initial: string, clients: number) {
    this.doc = Doc.fromString(initial);
    this.delivered = Array.from({ length: clients }, () => 0);
    this.unseen = Array.from({ length: clients }, () => []);
    this.unseenHead = Array.from({ length: clients }, () => 0);
  }

  receive(author: number, baseVersion: number, op: TextOp): void {
    if (baseVersion > this.log.length) throw new Error(`base version ${baseVersion} is from the future`);
    const unseen = this.unseen[author]!;
    // Ops below the client's base are ones it has now integrated.
    let head = this.unseenHead[author]!;
    while (head < unseen.length && unseen[head]!.version < baseVersion) head++;
    if (head === unseen.length) {
      unseen.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= unseen.length) {
      unseen.splice(0, head);
      head = 0;
    }
    this.unseenHead[author] = head;
    // Transform the incoming op (on the left) against every op committed since its base that it has not seen;
    // its author's own earlier ops are already part of its context. Keep the unseen ops following it.
    for (let i = head; i < unseen.length; i++) {
      const entry = unseen[i]!;
      const next = type.transform(op, entry.op, 'left');
      entry.op = type.transform(entry.op, op, 'right');
      op = next;
    }
    this.doc = type.apply(this.doc, op);
    const msg = { version: this.log.length, op, author };
    this.log.push(msg);
    for (let c = 0; c < this.unseen.length; c++) {
      if (c !== author) this.unseen[c]!.push({ version: msg.version, op });
    }
  }

  /** The next message for `client`, without delivering it. */
  peek(client: number): Message | undefined {
    return this.log[this.delivered[client]!];
  }

  /** Deliver the next message to `client`. */
  deliver(client: number): Message | undefined {
    const msg = this.log[this.delivered[client]!];
    if (msg !== undefined) this.delivered[client]!++;
    return msg;
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
    return this.state.length;
  }

  edit(op: TextOp): void {
    this.doc = type.apply(this.doc, op);
    this.state.push(op);
    this.server.receive(this.id, this.state.version, op);
  }

  peek(): Message | undefined {
    return this.server.peek(this.id);
  }

  receiveNext(): void {
    const msg = this.server.deliver(this.id);
    if (msg === undefined) throw new Error('no message to receive');
    const remote = this.state.integrate(msg, this.id);
    if (remote !== null) this.doc = type.apply(this.doc, remote);
  }

  drain(): void {
    while (this.peek() !== undefined) this.receiveNext();
  }
}
