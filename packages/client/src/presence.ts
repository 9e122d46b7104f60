/**
 * Presence for one document, client side: our cursor going out, everyone else's coming in.
 *
 * Positions on the wire are code points in the *confirmed* text (the server's text at `version`), because that
 * is the only text both sides know. Going out, our caret lives in the local text (confirmed + pending ops): it is
 * mapped back through the inverse of the pending ops (inserts not yet sequenced collapse to where they start).
 * The server moves it through whatever was committed since `version` — pushing it past our own inserts at the
 * caret — and once our pending ops are acked we send it again, exact this time.
 *
 * Coming in, a remote cursor at version v is moved through the confirmed ops after v (a short history kept for
 * this), then through our pending ops, into the local text, where it is kept; from then on it moves with every
 * change of the text, local or remote, so it never jumps and never lags a frame behind the text. A cursor for a
 * version we have not reached yet waits until we have; one too old for the history is shown without a cursor.
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { transformCaret, type } from '@collab/ot-text';
import type { ClientMessage, PresenceUser, ServerMessage } from '@collab/protocol';

/** Someone else in the document, in the editor's units (UTF-16 offsets in the local text). */
export interface RemoteUser {
  sessionId: string;
  userId: string;
  name: string;
  color: string;
  /** Absent when the user has no cursor in the text (or it could not be placed correctly). */
  cursor?: { anchor: number; head: number };
}

export interface PresenceOptions {
  /** Shown to others when the token has no name. */
  name?: string;
  /** #rrggbb; default: derived by the server from the user id. */
  color?: string;
  /** Most cursor updates sent per second (default 20); in between, the newest wins and the last always goes. */
  updatesPerSecond?: number;
}

/** What presence needs from the document's sync machine. */
export interface PresenceHost {
  readonly docId: string;
  readonly confirmed: Doc;
  readonly text: Doc;
  readonly version: number;
  readonly isLive: boolean;
  /** The unacknowledged ops, in order: each applies to the result of the previous one, the first to `confirmed`. */
  pendingOps(): TextOp[];
  /** Our user id, once welcomed. */
  userId(): string | undefined;
  send(message: ClientMessage): void;
  schedule(delayMs: number, fn: () => void): () => void;
  now(): number;
  /**
   * The others' presence changed. The host builds the list (users()) only if someone listens: building it costs
   * a UTF-16 conversion per user, on every update of every user — O(users²) per second in a busy document.
   */
  changed(): void;
}

interface Cursor {
  anchor: number;
  head: number;
}

interface Remote {
  user: PresenceUser;
  /** Code points in the local text. */
  cursor: Cursor | undefined;
}

/** Confirmed ops kept to move late-arriving cursors forward (a cursor older than this is shown without one). */
const HISTORY = 500;

export class DocumentPresence {
  private readonly remote = new Map<string, Remote>();
  /** Updates for versions we have not reached yet, newest per session. */
  private readonly parked = new Map<string, PresenceUser>();
  private history: Array<{ version: number; op: TextOp; userId: string | undefined }> = [];
  /** Our caret in the local text (code points); undefined: none set. */
  private local: Cursor | undefined;
  private lastSentAt = -Infinity;
  private cancelTrailing: (() => void) | undefined;
  /** The last cursor we sent was mapped through pending ops (approximate): send again once they are acked. */
  private sentWithPending = false;
  /** What the server has from us on this connection (version and cursor), to leave out updates that repeat it. */
  private lastSent: { version: number; cursor: Cursor | undefined } | undefined;
  private readonly minIntervalMs: number;

  constructor(
    private readonly host: PresenceHost,
    private readonly options: PresenceOptions = {},
  ) {
    this.minIntervalMs = 1000 / (options.updatesPerSecond ?? 20);
  }

  /** Everyone else, as last emitted. */
  users(): RemoteUser[] {
    const text = this.host.text;
    return [...this.remote.values()].map(({ user, cursor }) => ({
      sessionId: user.sessionId,
      userId: user.userId,
      name: user.name,
      color: user.color,
      ...(cursor === undefined
        ? {}
        : { cursor: { anchor: text.codePointToUtf16(cursor.anchor), head: text.codePointToUtf16(cursor.head) } }),
    }));
  }

  // ---- our cursor ----------------------------------------------------------------------------------------------

  /** Set our caret/selection (code points in the local text); undefined: no cursor. Throttled. */
  setCursor(cursor: Cursor | undefined): void {
    this.local = cursor;
    this.schedule();
  }

  private schedule(): void {
    if (this.cancelTrailing !== undefined) return; // a send is due: it takes the newest state
    const wait = this.lastSentAt + this.minIntervalMs - this.host.now();
    if (wait <= 0) return this.send();
    this.cancelTrailing = this.host.schedule(wait, () => {
      this.cancelTrailing = undefined;
      this.send();
    });
  }

  private send(): void {
    if (!this.host.isLive) return; // re-sent when the document is open again
    const pending = this.host.pendingOps();
    let cursor = this.local;
    if (cursor !== undefined && pending.length > 0) {
      // Local text → confirmed text: through the inverse of the pending ops (composed: they apply in sequence).
      const composed = pending.reduce<TextOp>((acc, op) => type.compose(acc, op), []);
      const inverse = type.invert(type.makeInvertible(composed, this.host.confirmed));
      cursor = {
        anchor: type.transformPosition(cursor.anchor, inverse),
        head: type.transformPosition(cursor.head, inverse),
      };
    }
    this.sentWithPending = cursor !== undefined && pending.length > 0;
    // While typing, a keystroke's caret maps back (through the pending ops) to where the previous update already
    // put it: the same version and place. Sending it again tells nobody anything but costs a frame to the server
    // and one to everyone else in the document — half of all presence traffic in a busy one.
    const last = this.lastSent;
    if (last !== undefined && last.version === this.host.version && sameCursor(last.cursor, cursor)) return;
    this.lastSent = { version: this.host.version, cursor };
    this.lastSentAt = this.host.now();
    this.host.send({
      t: 'presence',
      docId: this.host.docId,
      version: this.host.version,
      ...(cursor === undefined ? {} : { cursor }),
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
      ...(this.options.color === undefined ? {} : { color: this.options.color }),
    });
  }

  // ---- hooks from the sync machine -------------------------------------------------------------------------------

  /**
   * The document is open (again) on a connection: the server announced the new session when it opened the
   * document; tell it our cursor, if we have one.
   */
  opened(): void {
    this.lastSentAt = -Infinity;
    this.lastSent = undefined; // a new session on the server: it knows nothing of us yet
    this.cancelTrailing?.();
    this.cancelTrailing = undefined;
    if (this.local !== undefined) this.schedule();
  }

  /** A confirmed op: `op` took the confirmed text to `version` (a remote op, or our own acked one). */
  confirmed(version: number, op: TextOp, userId: string | undefined, own: boolean): void {
    this.history.push({ version, op, userId });
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const [sessionId, user] of this.parked) {
      if (user.version <= version) {
        this.parked.delete(sessionId);
        this.place(user);
      }
    }
    if (own && this.sentWithPending && this.host.pendingOps().length === 0) this.schedule();
  }

  /** The local text changed by `op` (made by `userId`): move every cursor along. Emits. */
  textChanged(op: TextOp, userId: string | undefined, local: boolean): void {
    // Our caret lives in the local text too: a remote edit moves it like anyone's (our own inserts at the caret
    // push it, others' leave it before). Left alone, a throttled send could name a place past the text.
    if (this.local !== undefined) this.local = moveCursor(this.local, op, local);
    for (const r of this.remote.values()) {
      if (r.cursor !== undefined) r.cursor = moveCursor(r.cursor, op, userId !== undefined && userId === r.user.userId);
    }
    if (this.remote.size > 0) this.host.changed();
  }

  /** The text was replaced (a reload): positions mean nothing any more. The server's list on re-open repairs it. */
  reset(): void {
    this.history = [];
    this.parked.clear();
    this.local = undefined;
    for (const r of this.remote.values()) r.cursor = undefined;
    if (this.remote.size > 0) this.host.changed();
  }

  /** The connection went: whoever we showed may be gone; the list on re-open says who is still here. */
  disconnected(): void {
    this.cancelTrailing?.();
    this.cancelTrailing = undefined;
  }

  close(): void {
    this.disconnected();
    this.remote.clear();
    this.parked.clear();
  }

  receive(message: Extract<ServerMessage, { t: 'presence' } | { t: 'presence-leave' }>): void {
    if (message.t === 'presence-leave') {
      this.parked.delete(message.sessionId);
      if (this.remote.delete(message.sessionId)) this.host.changed();
      return;
    }
    if ('users' in message) {
      this.remote.clear();
      this.parked.clear();
      for (const user of message.users) this.place(user, false);
      this.host.changed();
      return;
    }
    this.place(message.update);
  }

  /** Put a user's cursor into the local text (or park it until we reach its version). */
  private place(user: PresenceUser, emit = true): void {
    if (user.version > this.host.version) {
      this.parked.set(user.sessionId, user);
      // Until then, show them where they were (their entry, if any, keeps moving with the text).
      if (!this.remote.has(user.sessionId)) this.remote.set(user.sessionId, { user, cursor: undefined });
      if (emit) this.host.changed();
      return;
    }
    this.parked.delete(user.sessionId);
    let cursor: Cursor | undefined = user.cursor;
    if (cursor !== undefined && user.version < this.host.version) {
      const first = this.history.findIndex((h) => h.version === user.version + 1);
      const last = this.history[this.history.length - 1];
      if (first < 0 || last?.version !== this.host.version) cursor = undefined;
      else {
        for (const h of this.history.slice(first)) cursor = moveCursor(cursor, h.op, h.userId === user.userId);
      }
    }
    if (cursor !== undefined) {
      const mine = user.userId === this.host.userId();
      for (const op of this.host.pendingOps()) cursor = moveCursor(cursor, op, mine);
      const length = this.host.text.length;
      if (cursor.anchor > length || cursor.head > length) cursor = undefined; // cannot be: do not show it wrong
    }
    this.remote.set(user.sessionId, { user, cursor });
    if (emit) this.host.changed();
  }
}

/**
 * Move a position through an op. The owner's own inserts at the caret push it forward (their caret is after
 * what they typed); anyone else's leave it before (ot-text's transformPosition). Same rule as the server's.
 */
export function movePosition(position: number, op: TextOp, own: boolean): number {
  return transformCaret(position, op, own);
}

function moveCursor(cursor: Cursor, op: TextOp, own: boolean): Cursor {
  return { anchor: movePosition(cursor.anchor, op, own), head: movePosition(cursor.head, op, own) };
}

function sameCursor(a: Cursor | undefined, b: Cursor | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.anchor === b.anchor && a.head === b.head);
}
