/**
 * The snapshot port: whole-text snapshots so a document loads as "latest snapshot + a short tail of ops".
 * S3 in the distributed mode, SQLite in the embedded one. Snapshots are derived data: deleting them loses speed,
 * never content.
 */
import type { SnapshotData, SnapshotMeta } from '../records.js';

export interface SnapshotStore {
  /**
   * Store a snapshot unless one already exists for (docId, version): never overwrites, so two workers racing to
   * write the same snapshot cannot clobber each other. Returns whether this call created it.
   */
  put(snapshot: SnapshotData): Promise<'created' | 'exists'>;
  /** The snapshot with the highest version <= `maxVersion` (default: any). Verifies its checksum. */
  latest(docId: string, maxVersion?: number): Promise<SnapshotData | undefined>;
  get(docId: string, version: number): Promise<SnapshotData | undefined>;
  /** All snapshots of a document, oldest first. */
  list(docId: string): Promise<SnapshotMeta[]>;
  delete(docId: string, version: number): Promise<void>;
  close(): Promise<void>;
}
