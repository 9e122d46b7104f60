/**
 * When a document gets a snapshot: pure functions of what the worker knows about it, so the rules can be
 * tested without Kafka or S3 and explained in one place (README "Policy").
 */

export interface SnapshotPolicy {
  /** A snapshot every this many versions. */
  everyVersions: number;
  /** A snapshot once the document has been quiet this long (ms) with versions not yet in a snapshot. */
  idleMs: number;
  /** A document committing at least this many ops per second (over `hotWindowMs`) is hot... */
  hotOpsPerSecond: number;
  hotWindowMs: number;
  /** ...and gets a snapshot every this many versions instead. */
  hotEveryVersions: number;
  /**
   * Snapshot lag bound: a document edited without pause (never idle) but slowly (never reaching N versions)
   * still gets a snapshot once its oldest unsnapshotted version is this old (ms).
   */
  maxDirtyMs: number;
}

export const DEFAULT_POLICY: SnapshotPolicy = {
  everyVersions: 500,
  idleMs: 30_000,
  hotOpsPerSecond: 20,
  hotWindowMs: 5_000,
  hotEveryVersions: 100,
  maxDirtyMs: 300_000,
};

export interface DocumentActivity {
  version: number;
  /** Version of the latest durable snapshot (0: none; version 0 is the empty text and needs none). */
  snapshotVersion: number;
  /** Wall-clock time the last op arrived, and the first op after the snapshot arrived. */
  lastOpAt: number;
  firstDirtyAt: number | undefined;
  hot: boolean;
}

export type SnapshotReason = 'versions' | 'hot' | 'idle' | 'age';

export function snapshotDue(policy: SnapshotPolicy, doc: DocumentActivity, now: number): SnapshotReason | undefined {
  const behind = doc.version - doc.snapshotVersion;
  if (behind <= 0) return undefined;
  if (behind >= policy.everyVersions) return 'versions';
  if (doc.hot && behind >= policy.hotEveryVersions) return 'hot';
  if (now - doc.lastOpAt >= policy.idleMs) return 'idle';
  if (doc.firstDirtyAt !== undefined && now - doc.firstDirtyAt >= policy.maxDirtyMs) return 'age';
  return undefined;
}

/**
 * Op rate by commit time (not arrival time: a worker catching up on a backlog sees every document "fast", but
 * only documents that were really edited fast are hot). A ring of the last K commit timestamps, K = the ops a
 * hot document commits in one window: the document is hot when those K ops span less than the window.
 */
export class RateMeter {
  private readonly ring: number[];
  private next = 0;
  private filled = 0;

  constructor(
    opsPerSecond: number,
    private readonly windowMs: number,
  ) {
    // Capped: the ring is per document in memory; beyond 10,000 ops per window "hot" is a given anyway.
    const size = Math.min(10_000, Math.max(2, Math.ceil((opsPerSecond * windowMs) / 1000)));
    this.ring = new Array<number>(size).fill(0);
  }

  record(timestamp: number): void {
    this.ring[this.next] = timestamp;
    this.next = (this.next + 1) % this.ring.length;
    this.filled = Math.min(this.filled + 1, this.ring.length);
  }

  get hot(): boolean {
    if (this.filled < this.ring.length) return false;
    const newest = this.ring[(this.next - 1 + this.ring.length) % this.ring.length]!;
    const oldest = this.ring[this.next]!;
    return newest - oldest < this.windowMs;
  }
}
