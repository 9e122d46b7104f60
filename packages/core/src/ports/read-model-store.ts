/**
 * The read-model port: what the projection-service writes and the read API / catch-up / document load read.
 * Cassandra in the distributed mode, SQLite in the embedded one. Everything here is derived from the op log and
 * can be dropped and rebuilt from it; so every write is idempotent, keyed by (docId, version).
 */
import type { CommentEvent } from '../domain/comments.js';
import { CollabError } from '../errors.js';
import type { DocHead, OpCommitted } from '../records.js';
import type { Offset } from './op-log.js';

export interface HistoryEntry {
  version: number;
  userId: string;
  clientId: string;
  timestamp: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}

export interface UserActivity {
  userId: string;
  docId: string;
  version: number;
  timestamp: number;
}

/**
 * A comment event as the read models keep it: with its offset in the log. The offset orders the events that share
 * a version (they apply in log order) and names the record, so a redelivered event rewrites the same row.
 */
export interface StoredCommentEvent {
  offset: Offset;
  event: CommentEvent;
}

/** What every store checks before writing an event: ERR_INVALID_ARGUMENT for a row that could not be keyed. */
export function checkStoredCommentEvent(stored: StoredCommentEvent): void {
  const event = stored?.event;
  const keyed =
    typeof stored?.offset === 'bigint' &&
    stored.offset >= 0n &&
    typeof event?.docId === 'string' &&
    event.docId !== '' &&
    Number.isSafeInteger(event.version) &&
    event.version >= 0;
  if (!keyed) {
    throw new CollabError(
      'ERR_INVALID_ARGUMENT',
      'a comment event needs a docId, a version >= 0 and a non-negative bigint offset',
    );
  }
}

export interface ReadModelStore {
  /**
   * Record committed ops: the ops by version, the head (only ever moves forward), the history index by time
   * and per-user activity. Writing the same op twice changes nothing.
   */
  writeOps(ops: readonly OpCommitted[]): Promise<void>;
  /** Ops with from <= version < to (to defaults to the head + 1), in version order, at most `limit`. */
  getOps(docId: string, from: number, to?: number, limit?: number): Promise<OpCommitted[]>;
  getHead(docId: string): Promise<DocHead | undefined>;
  /** The highest version committed at or before `time` (ms since epoch); 0 when none. */
  versionAt(docId: string, time: number): Promise<number>;
  /** Versions newest first, paginated. */
  history(docId: string, options?: { limit?: number; cursor?: string }): Promise<Page<HistoryEntry>>;
  /** A user's most recent edits across documents, newest first. */
  userActivity(userId: string, options?: { limit?: number }): Promise<UserActivity[]>;
  /**
   * Record committed comment events, keyed by (docId, version, offset): writing the same record twice changes
   * nothing. The projection writes a batch's events before it checkpoints the batch, like its ops.
   */
  writeCommentEvents(events: readonly StoredCommentEvent[]): Promise<void>;
  /**
   * The comment events of `docId` with fromVersion <= version <= toVersion (defaults: every version), in log
   * order: by version, then offset. One answer, not pages: a load folds all of them anyway.
   */
  getCommentEvents(docId: string, fromVersion?: number, toVersion?: number): Promise<StoredCommentEvent[]>;
  close(): Promise<void>;
}
