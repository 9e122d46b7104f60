/**
 * What the worker holds per document with recent activity: the text (a rope) at a version it has proved, the
 * latest durable snapshot, and the offsets of the records it has folded in since that snapshot. Those offsets
 * are what the partition's checkpoint may not pass (see checkpoints.ts).
 */
import type { LogRecord, Offset } from '@collab/core';
import type { Doc } from '@collab/ot-text';
import { RateMeter, type DocumentActivity, type SnapshotPolicy } from './policy.js';

export interface TrackedDocument {
  readonly docId: string;
  readonly partition: number;
  /** undefined until loaded (from snapshot + read models); records wait in `waiting` meanwhile. */
  state: { version: number; doc: Doc } | undefined;
  /** Records that arrived before the state was known, in offset order. */
  waiting: LogRecord[];
  loading: Promise<void> | undefined;
  /** When a failed load may be tried again (wall clock). */
  nextLoadAt: number;
  loadFailures: number;
  snapshotVersion: number;
  /** createdAt of that snapshot, when known. */
  snapshotCreatedAt: number | undefined;
  /** (version, offset) of each folded record above snapshotVersion, oldest first. */
  uncovered: { version: number; offset: Offset }[];
  lastOpAt: number;
  firstDirtyAt: number | undefined;
  readonly rate: RateMeter;
  writing: Promise<void> | undefined;
  /** After a write job gave up: not before this time (wall clock). */
  nextWriteAt: number;
}

export function newTrackedDocument(docId: string, partition: number, policy: SnapshotPolicy): TrackedDocument {
  return {
    docId,
    partition,
    state: undefined,
    waiting: [],
    loading: undefined,
    nextLoadAt: 0,
    loadFailures: 0,
    snapshotVersion: 0,
    snapshotCreatedAt: undefined,
    uncovered: [],
    lastOpAt: 0,
    firstDirtyAt: undefined,
    rate: new RateMeter(policy.hotOpsPerSecond, policy.hotWindowMs),
    writing: undefined,
    nextWriteAt: 0,
  };
}

export function activityOf(doc: TrackedDocument): DocumentActivity | undefined {
  if (doc.state === undefined) return undefined;
  return {
    version: doc.state.version,
    snapshotVersion: doc.snapshotVersion,
    lastOpAt: doc.lastOpAt,
    firstDirtyAt: doc.firstDirtyAt,
    hot: doc.rate.hot,
  };
}

/** A snapshot at `version` is durable: everything folded up to it no longer holds the checkpoint back. */
export function markSnapshotted(doc: TrackedDocument, version: number, createdAt: number, now: number): void {
  if (version <= doc.snapshotVersion) return;
  doc.snapshotVersion = version;
  doc.snapshotCreatedAt = createdAt;
  let covered = 0;
  while (covered < doc.uncovered.length && doc.uncovered[covered]!.version <= version) covered++;
  doc.uncovered.splice(0, covered);
  doc.firstDirtyAt = doc.uncovered.length === 0 ? undefined : now;
}

/** The lowest offset this document still needs redelivered after a crash, if any. */
export function firstNeededOffset(doc: TrackedDocument): Offset | undefined {
  const a = doc.waiting[0]?.offset;
  const b = doc.uncovered[0]?.offset;
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}
