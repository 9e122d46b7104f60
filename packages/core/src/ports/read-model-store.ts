/**
 * The read-model port: what the projection-service writes and the read API / catch-up / document load read.
 * Cassandra in the distributed mode, SQLite in the embedded one. Everything here is derived from the op log and
 * can be dropped and rebuilt from it; so every write is idempotent, keyed by (docId, version).
 */
import type { DocHead, OpCommitted } from '../records.js';

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
  close(): Promise<void>;
}
