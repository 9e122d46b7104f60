/**
 * Garbage collection of media (`collab media gc`): delete the blobs that no version of any document references and
 * that were not uploaded recently.
 *
 * Safety, in the order of the steps:
 * - the store is listed before the log is read, so a blob uploaded during the run is not even a candidate;
 * - the log is read to its end at that moment, every version of every document (referenced-media.ts);
 * - a blob uploaded (to any document) within the grace period is kept even if unreferenced: an upload precedes the
 *   edit that inserts its reference, possibly by the length of an offline spell.
 * What it cannot see: a reference to a blob older than the grace period, never referenced before, inserted while
 * the run reads the log. Keep the grace period longer than any upload-to-insert delay you accept.
 */
import type { MediaStore, OpLog } from '@collab/core';
import { referencedMedia } from './referenced-media.js';

export interface MediaGcOptions {
  /** Blobs uploaded this recently are kept whatever the log says. */
  graceMs: number;
  /** Only report what would be deleted. */
  dryRun: boolean;
  now?: number;
}

export interface MediaGcReport {
  blobs: number;
  /** Kept: referenced by some version of some document. */
  referenced: number;
  /** Kept: unreferenced, but uploaded within the grace period. */
  recent: number;
  /** Unreferenced and older than the grace period: deleted, or to be deleted (dry run). */
  unreferenced: string[];
  deleted: number;
}

export async function collectMediaGarbage(
  store: MediaStore,
  log: OpLog,
  options: MediaGcOptions,
): Promise<MediaGcReport> {
  const entries = await store.list();
  const { ids: referenced } = await referencedMedia(log);
  const cutoff = (options.now ?? Date.now()) - options.graceMs;
  const report: MediaGcReport = { blobs: entries.length, referenced: 0, recent: 0, unreferenced: [], deleted: 0 };
  for (const entry of entries) {
    if (referenced.has(entry.id)) report.referenced += 1;
    else if (entry.lastUploadAt >= cutoff) report.recent += 1;
    else report.unreferenced.push(entry.id);
  }
  if (!options.dryRun) {
    for (const id of report.unreferenced) {
      await store.delete(id);
      report.deleted += 1;
    }
  }
  return report;
}
