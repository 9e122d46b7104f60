/**
 * The public face of one open document, in the editor's units: offsets and lengths are UTF-16 code units (what
 * `String.prototype.length`, textarea selections, CodeMirror and Monaco use). Conversion to the code points of the
 * wire happens here, through the rope's O(log n) index.
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { insertOp, removeOp } from '@collab/ot-text';
import type { DocumentSync, SyncEvents, UnsentWork } from './document-sync.js';
import type { DocumentComments } from './document-comments.js';
import type { RemoteUser } from './presence.js';
import type { Listener } from './emitter.js';
import { CollabClientError } from './errors.js';
import type { WireThread } from '@collab/protocol';

/** A comment thread with its range in the local text as UTF-16 offsets (ClientDocument.threads). */
export type ShownThread = WireThread & { from: number; to: number };

export class ClientDocument {
  constructor(
    private readonly sync: DocumentSync,
    private readonly onClose: () => void,
  ) {}

  get id(): string {
    return this.sync.docId;
  }

  /** The text as the user sees it (every local edit applied). Built from the rope: use `doc` for large texts. */
  get text(): string {
    return this.sync.text.toString();
  }

  /** The rope behind `text` (immutable: every edit makes a new one). */
  get doc(): Doc {
    return this.sync.text;
  }

  /** Length in UTF-16 code units. */
  get length(): number {
    return this.sync.text.utf16Length;
  }

  /** The last server version this client has integrated. */
  get version(): number {
    return this.sync.version;
  }

  /** Local edits not yet acknowledged by the server. */
  get pendingCount(): number {
    return this.sync.pendingCount;
  }

  /** True after the pending limit was reached: edits throw ERR_PENDING_LIMIT until `reload()`. */
  get isBlocked(): boolean {
    return this.sync.isBlocked;
  }

  /**
   * Insert `text` at UTF-16 offset `offset`. Applies at once; reaches the server as one op, or as several if the
   * text is longer than the server accepts in one op ('progress' events follow the upload).
   */
  insert(offset: number, text: string): void {
    if (text.length === 0) return;
    const at = this.toCodePoint(offset, 'floor');
    this.sync.applyLocal(insertOp(at, text));
  }

  /** Delete `length` UTF-16 code units at `offset`. A range edge inside a surrogate pair widens to the whole pair. */
  delete(offset: number, length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new CollabClientError('ERR_RANGE', `Cannot delete ${length} characters.`);
    }
    if (length === 0) return;
    const from = this.toCodePoint(offset, 'floor');
    const to = this.toCodePoint(offset + length, 'ceil');
    this.sync.applyLocal(removeOp(from, to - from));
  }

  /** Replace `length` UTF-16 code units at `offset` with `text`. */
  replace(offset: number, length: number, text: string): void {
    this.delete(offset, length);
    this.insert(offset, text);
  }

  /**
   * Apply an op given in code points (the wire's units) to the text before it, as a local edit: undo/redo and
   * programmatic edits use this; editors use insert/delete/replace.
   */
  applyOp(op: TextOp): void {
    if (op.length === 0) return;
    this.sync.applyLocal(op);
  }

  /**
   * Tell the others where our caret (`head`) and selection (`anchor`..`head`) are, in UTF-16 offsets of the local
   * text. Cheap to call on every selection change: updates are throttled and the newest wins.
   */
  setCursor(anchor: number, head: number = anchor): void {
    this.sync.presence.setCursor({ anchor: this.toCodePoint(anchor, 'floor'), head: this.toCodePoint(head, 'floor') });
  }

  /** We are here, but not in the text (e.g. the editor lost focus). */
  clearCursor(): void {
    this.sync.presence.setCursor(undefined);
  }

  /** Everyone else in the document, cursors in UTF-16 offsets of the local text ('presence' events say when). */
  get others(): RemoteUser[] {
    return this.sync.presence.users();
  }

  /**
   * The document's comment threads: create/reply/edit/resolve/reopen/delete, `threads` (anchors in code points of
   * the local text), `confirmed` (the server's threads at `version`), and the 'comments' event.
   */
  get comments(): DocumentComments {
    return this.sync.comments;
  }

  /**
   * The threads to show, each with its range as UTF-16 offsets of the local text (`from`, `to`: what an editor
   * marks); `anchor` stays in code points. A detached thread (its text deleted) has `from === to`.
   */
  get threads(): ShownThread[] {
    const text = this.sync.text;
    return this.sync.comments.threads.map((thread) => ({
      ...thread,
      from: text.codePointToUtf16(Math.min(thread.anchor.start, text.length)),
      to: text.codePointToUtf16(Math.min(thread.anchor.end, text.length)),
    }));
  }

  /** Start a thread on `length` UTF-16 code units at `offset` of the local text; resolves with its id once durable. */
  comment(offset: number, length: number, text: string): Promise<string> {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new CollabClientError('ERR_RANGE', `Cannot comment on ${length} characters.`);
    }
    const from = this.toCodePoint(offset, 'floor');
    return this.sync.comments.create(from, this.toCodePoint(offset + length, 'ceil'), text);
  }

  /** The unsent work right now (for a "download my changes" button). */
  unsentWork(reason = 'requested'): UnsentWork {
    return this.sync.unsentWork(reason);
  }

  /** Drop unsent work (reported in an 'unsent' event first) and load the server's text. */
  reload(): void {
    this.sync.reload();
  }

  on<K extends keyof SyncEvents>(event: K, listener: Listener<SyncEvents[K]>): () => void {
    return this.sync.events.on(event, listener);
  }

  off<K extends keyof SyncEvents>(event: K, listener: Listener<SyncEvents[K]>): void {
    this.sync.events.off(event, listener);
  }

  /** Stop syncing this document. Unsent work is reported in an 'unsent' event. */
  close(): void {
    this.onClose();
  }

  /** Code point position of a UTF-16 offset; an offset inside a surrogate pair moves to one side of the pair. */
  private toCodePoint(offset: number, inPair: 'floor' | 'ceil'): number {
    const doc = this.sync.text;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > doc.utf16Length) {
      throw new CollabClientError('ERR_RANGE', `Offset ${offset} is outside the document (length ${doc.utf16Length}).`);
    }
    const cp = doc.utf16ToCodePoint(offset); // rounds down inside a pair
    if (inPair === 'ceil' && doc.codePointToUtf16(cp) < offset) return cp + 1;
    return cp;
  }
}
