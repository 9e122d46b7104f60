/**
 * What DocumentSync needs from its connection (`SyncHost`), the options it takes, and the events it tells its
 * owner (the CollabClient, an editor binding) about.
 */
import type { TextOp } from '@collab/ot-text';
import type { ClientMessage } from '@collab/protocol';
import type { Utf16Change } from './changes.js';
import type { UnsentWork } from './pending-ops.js';
import type { OpBudget } from './op-budget.js';
import type { PresenceOptions, RemoteUser } from './presence.js';

export interface SyncHost {
  readonly clientId: string;
  /** The next seq for this document: increases forever, across reconnects, re-opens and new clientIds. */
  nextSeq(): number;
  /**
   * A fresh random clientId, for when the server says another user's ops carry ours (ERR_CLIENT_ID_TAKEN).
   * Absent: that error is final, like any other refusal of an op.
   */
  newClientId?(): string;
  /** Send a message on the current connection (only called while connected). */
  send(message: ClientMessage): void;
  /**
   * Give up the current connection and make a new one (the server has stopped answering on it). Absent: the
   * document keeps asking on the connection it has.
   */
  reconnect?(reason: string): void;
  /** Run `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
  /** Our user id once welcomed (presence: our own ops push our cursors). */
  userId?(): string | undefined;
  /** Clock for the presence throttle; default Date.now. */
  now?(): number;
}

export interface SyncOptions {
  /** Local edits that may wait unsent before the document stops taking edits (default 1000). */
  maxPending?: number;
  /** Size limits for one op (set from the server's welcome by the connection). */
  budget?: OpBudget;
  /**
   * Re-send an `open` that has had no answer for this long (default 15 s); after three such timeouts in a row the
   * connection is replaced (`SyncHost.reconnect`).
   */
  openTimeoutMs?: number;
  /** Delay before re-sending an op after a retriable error without `retryAfterMs` (doubles per attempt). */
  retryBaseMs?: number;
  /** Compute the state hash (tests inject a wrong one to force a mismatch). */
  hash?: (text: string) => string;
  /** Our name/colour for others, and how often cursor updates go out. */
  presence?: PresenceOptions;
}

export interface ChangeEvent {
  /** 'local': this client's own edit (already in the editor); 'remote': someone else's; 'reload': text replaced. */
  source: 'local' | 'remote' | 'reload';
  /** The change in code points, as an op on the text before it. */
  op: TextOp;
  /** The same change in UTF-16 ranges of the text before it. */
  changes: Utf16Change[];
  version: number;
  /** Who made a remote change. */
  userId?: string;
}

export interface SyncEvents {
  change: ChangeEvent;
  /** The server acknowledged our op `seq` as `version`. */
  ack: { seq: number; version: number };
  /** Local edits waiting for their ack changed. */
  pending: { count: number };
  /** A split (large) insert progresses: code points acknowledged of those inserted. */
  progress: { sent: number; total: number };
  /** Unsent work had to be taken out of the document (reload, rejected op). Never dropped silently. */
  unsent: UnsentWork;
  /** Too many edits are pending: the document takes no more until `reload()`. Offer `work` for download. */
  'pending-limit': { limit: number; work: UnsentWork };
  /** The document is being reloaded from the server. */
  resync: { reason: string };
  /** A server error about this document (an op it rejected, an open it refused). */
  error: { code: string; message: string; seq?: number; retriable: boolean };
  /** The first snapshot arrived. */
  load: { version: number };
  /** The document reached a state hash check: `ok` false means it diverged and is being reloaded. */
  hash: { version: number; ok: boolean };
  /** The comment threads changed (`doc.comments.threads`): an event, the list after an open, or an op moved them. */
  comments: { version: number };
  /** Everyone else in the document, cursors in the local text (UTF-16): after every change of who or where. */
  presence: { users: RemoteUser[] };
}
