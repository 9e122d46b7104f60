/**
 * `doc.comments`: a document's comment threads in the SDK (docs/protocol.md, "Comments"; docs/comments.md).
 *
 * `confirmed` is the server's threads at the version the client has integrated, folded from what the server sends
 * (the threads after every open, then each event in log order) and moved through every op as it is integrated —
 * so it equals the server's threads at that version. `threads` is what to show: those threads moved further
 * through the local edits the server has not acknowledged yet.
 *
 * Commands go out in the order they were made. A `create` waits until the client has no edit pending, so its range
 * is given in a text the server knows (the confirmed text at `version`); until then its range, in the local text,
 * moves with every edit. Sent commands that have no answer are sent again after a reconnect with the same ids: the
 * server recognises a retry and changes nothing. Positions are code points of the local text.
 */
import type { Anchor, TextOp } from '@collab/ot-text';
import { transformAnchor } from '@collab/ot-text';
import type { ClientMessage, CommentCommand, ErrorMessage, ServerMessage, WireThread } from '@collab/protocol';
import { RETRIABLE_CODES } from '@collab/protocol';
import type { ThreadsAt } from './comment-threads.js';
import { foldThreadEvent, moveThreads, noThreads, threadsFrom } from './comment-threads.js';
import { CollabClientError } from './errors.js';

/** What the comments need from their document. */
export interface CommentsHost {
  readonly docId: string;
  /** The confirmed (server) version the client holds. */
  readonly version: number;
  /** The local edits not acknowledged yet, in order (the first applies to the confirmed text). */
  pendingOps(): readonly TextOp[];
  readonly isLive: boolean;
  send(message: ClientMessage): void;
  schedule(delayMs: number, fn: () => void): () => void;
  newId(): string;
  /** The threads changed (an event, a list after an open, an op that moved them). */
  changed(): void;
  /** What the server sent does not fit what we hold: open again (the answer brings the threads whole). */
  resync(reason: string): void;
}

type CommentMessage = Extract<ServerMessage, { t: 'comment' | 'comments' | 'comment-ack' }>;

interface Queued {
  ref: string;
  /** Set once sent (a create's is built when it can be sent). */
  command: CommentCommand | undefined;
  /** A create not sent yet: its range in the local text, and its text and ids. */
  draft?: { range: Anchor; threadId: string; messageId: string; text: string };
  sent: boolean;
  attempts: number;
  resolve: () => void;
  reject: (err: CollabClientError) => void;
}

export class DocumentComments {
  private state: ThreadsAt = noThreads(0);
  /** Whether `state` came from the server (a `comments` list since the last load). */
  private known = false;
  private readonly queue: Queued[] = [];
  private parts: WireThread[] = [];

  constructor(private readonly host: CommentsHost) {}

  /** The server's threads at `confirmed.version` (the version the client has integrated). */
  get confirmed(): ThreadsAt {
    return this.state;
  }

  /**
   * Whether `confirmed` is the server's: false from a disconnect or a reload until the answer to the re-open
   * brings the threads (they come right after the text on every open); meanwhile `threads` shows the last known.
   */
  get isLoaded(): boolean {
    return this.known;
  }

  /** The threads to show: anchors in code points of the local text (pending edits included). */
  get threads(): WireThread[] {
    const pending = this.host.pendingOps();
    return [...moveThreads(this.state, pending, this.state.version).threads.values()];
  }

  /** Commands made and not answered yet. */
  get pendingCount(): number {
    return this.queue.length;
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  /** A thread on [start, end) of the local text (code points). Resolves with its id once durable on the server. */
  async create(start: number, end: number, text: string): Promise<string> {
    const threadId = this.host.newId();
    const range = { start, end };
    await this.enqueue(undefined, { range, threadId, messageId: this.host.newId(), text });
    return threadId;
  }

  /** Resolves with the new message's id once durable. */
  async reply(threadId: string, text: string): Promise<string> {
    const messageId = this.host.newId();
    await this.enqueue({ kind: 'reply', threadId, messageId, text });
    return messageId;
  }

  edit(threadId: string, messageId: string, text: string): Promise<void> {
    return this.enqueue({ kind: 'edit', threadId, messageId, text });
  }

  resolve(threadId: string): Promise<void> {
    return this.enqueue({ kind: 'resolve', threadId });
  }

  reopen(threadId: string): Promise<void> {
    return this.enqueue({ kind: 'reopen', threadId });
  }

  delete(threadId: string): Promise<void> {
    return this.enqueue({ kind: 'delete', threadId });
  }

  private enqueue(command: CommentCommand | undefined, draft?: Queued['draft']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        ref: this.host.newId().slice(0, 64),
        command,
        draft,
        sent: false,
        attempts: 0,
        resolve,
        reject,
      });
      this.flush();
    });
  }

  /** Send what can go, in order: a create that must wait holds back everything after it. */
  flush(): void {
    if (!this.host.isLive) return;
    for (const entry of this.queue) {
      if (entry.sent) continue;
      if (entry.command === undefined) {
        const draft = entry.draft!;
        if (this.host.pendingOps().length > 0) return; // its range is in a text the server does not know yet
        entry.command = {
          kind: 'create',
          threadId: draft.threadId,
          messageId: draft.messageId,
          anchor: { start: draft.range.start, end: draft.range.end },
          version: this.host.version,
          text: draft.text,
        };
      }
      entry.sent = true;
      this.host.send({ t: 'comment', docId: this.host.docId, ref: entry.ref, command: entry.command });
    }
  }

  // ---- what the document tells us -------------------------------------------------------------------------------

  /** A fresh text (a load or a reload): the threads follow it from the server. */
  reset(version: number): void {
    this.state = noThreads(version);
    this.known = false;
    this.parts = [];
  }

  /** An op committed at `version` (someone's, or ours acknowledged): the threads move through it. */
  committed(op: TextOp, version: number): void {
    this.state = moveThreads(this.state, [op], version);
    if (this.state.threads.size > 0) this.host.changed();
  }

  /** An edit of the local text (ours, or a remote op as it applied to it): drafts move with their words. */
  localTextChanged(op: TextOp): void {
    for (const entry of this.queue) {
      if (entry.draft !== undefined && entry.command === undefined) {
        const moved = transformAnchor({ start: entry.draft.range.start, end: entry.draft.range.end }, op);
        entry.draft.range = { start: moved.start, end: moved.end };
      }
    }
  }

  /** Events may be missed from now on: the threads are not known again until the re-open's answer brings them. */
  disconnected(): void {
    this.known = false;
    for (const entry of this.queue) entry.sent = false;
  }

  receive(message: CommentMessage): void {
    switch (message.t) {
      case 'comments': {
        if (message.part === 0) this.parts = [];
        this.parts.push(...message.threads);
        if (message.part + 1 < message.parts) return;
        const threads = this.parts;
        this.parts = [];
        if (message.version !== this.host.version) {
          return this.resync(`threads at version ${message.version}, but the text is at ${this.host.version}`);
        }
        this.state = threadsFrom(message.version, threads);
        this.known = true;
        this.host.changed();
        return;
      }
      case 'comment':
        // Not known (a re-open is under way: its answer brings the threads whole), or older than our text (held
        // back while we re-opened, and in those threads): nothing to fold.
        if (!this.known || message.version < this.host.version) return;
        if (message.version > this.host.version) {
          return this.resync(`comment event at version ${message.version}, but the text is at ${this.host.version}`);
        }
        this.state = foldThreadEvent(this.state, message);
        this.host.changed();
        return;
      case 'comment-ack': {
        const entry = this.take(message.ref);
        entry?.resolve();
        return;
      }
    }
  }

  /** An error about one of our commands (it names our `ref`): true when it was ours. */
  onError(error: ErrorMessage): boolean {
    if (error.ref === undefined) return false;
    const entry = this.queue.find((e) => e.ref === error.ref);
    if (entry === undefined) return true; // answered already
    if (error.retriable || RETRIABLE_CODES.has(error.code)) {
      entry.sent = false;
      const delay = error.retryAfterMs ?? Math.min(250 * 2 ** entry.attempts, 30_000);
      entry.attempts++;
      this.host.schedule(delay, () => this.flush());
      return true;
    }
    this.take(error.ref);
    entry.reject(new CollabClientError(error.code, error.message, false));
    return true;
  }

  /** The document is closed: commands without an answer fail. */
  close(): void {
    for (const entry of this.queue.splice(0)) {
      entry.reject(new CollabClientError('ERR_CLOSED', `Document ${this.host.docId} is closed.`));
    }
  }

  /** What we hold cannot be trusted: forget it until the answer to a new open brings the threads. */
  private resync(reason: string): void {
    this.known = false;
    this.host.resync(reason);
  }

  private take(ref: string): Queued | undefined {
    const at = this.queue.findIndex((e) => e.ref === ref);
    return at < 0 ? undefined : this.queue.splice(at, 1)[0];
  }
}
