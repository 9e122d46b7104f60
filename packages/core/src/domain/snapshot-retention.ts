/**
 * Which snapshots of a document to keep. Snapshots are derived data (the op log can rebuild any of them), so
 * retention is about cost, with one rule for safety: the newest `keepLatest` are always kept.
 * It is a policy over the SnapshotStore port (the snapshot-service applies it to S3 or SQLite alike), so it lives
 * in the core rather than in an adapter.
 *
 * Every rule is chosen so that running the plan again on what it kept deletes nothing more (idempotent):
 * - keepEveryNth: N versions per span; the newest snapshot of each span floor(version / N) is kept. Based on
 *   the version, not the position in the list, so deleting older snapshots never changes what a later run keeps.
 * - keepDaily: D days; the newest snapshot of each of the last D UTC days (counting the day of `now`) is kept.
 */
import { CollabError } from '../errors.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { SnapshotMeta } from '../records.js';

export interface RetentionPolicy {
  /** The newest snapshots kept unconditionally. At least 1. */
  keepLatest: number;
  /** Also keep the newest snapshot of every span of this many versions. */
  keepEveryNth?: number;
  /** Also keep the newest snapshot of each of the last this many UTC days. */
  keepDaily?: number;
}

export interface RetentionPlan {
  keep: SnapshotMeta[];
  drop: SnapshotMeta[];
}

const DAY_MS = 86_400_000;

function checkPolicy(policy: RetentionPolicy): void {
  const positive = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n >= 1);
  if (!positive(policy.keepLatest) || !positive(policy.keepEveryNth) || !positive(policy.keepDaily)) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `retention counts must be integers >= 1: ${JSON.stringify(policy)}`);
  }
}

/** Pure: split `metas` (any order) into what to keep and what to drop, both oldest first. */
export function planRetention(
  metas: readonly SnapshotMeta[],
  policy: RetentionPolicy,
  now = Date.now(),
): RetentionPlan {
  checkPolicy(policy);
  const newestFirst = [...metas].sort((a, b) => b.version - a.version);
  const kept = new Set<SnapshotMeta>(newestFirst.slice(0, policy.keepLatest));
  const keepNewestPerGroup = (groupOf: (m: SnapshotMeta) => number | undefined): void => {
    const seen = new Set<number>();
    for (const meta of newestFirst) {
      const group = groupOf(meta);
      if (group === undefined || seen.has(group)) continue;
      seen.add(group);
      kept.add(meta);
    }
  };
  const { keepEveryNth, keepDaily } = policy;
  if (keepEveryNth !== undefined) keepNewestPerGroup((m) => Math.floor(m.version / keepEveryNth));
  if (keepDaily !== undefined) {
    const firstDay = Math.floor(now / DAY_MS) - (keepDaily - 1);
    keepNewestPerGroup((m) => {
      const day = Math.floor(m.createdAt / DAY_MS);
      return day >= firstDay ? day : undefined;
    });
  }
  const oldestFirst = newestFirst.reverse();
  return { keep: oldestFirst.filter((m) => kept.has(m)), drop: oldestFirst.filter((m) => !kept.has(m)) };
}

/** List a document's snapshots, plan, and delete what the plan drops. Works with any SnapshotStore. */
export async function applyRetention(
  store: SnapshotStore,
  docId: string,
  policy: RetentionPolicy,
  now = Date.now(),
): Promise<RetentionPlan> {
  const plan = planRetention(await store.list(docId), policy, now);
  for (const meta of plan.drop) await store.delete(docId, meta.version);
  return plan;
}
