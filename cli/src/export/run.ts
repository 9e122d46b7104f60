/**
 * One export, start to end: plan the ranges (or take them from the checkpoint on --resume), read them, write the
 * ops to the sink, and every `checkpointEvery` ops commit the sink and then write the checkpoint — in that order,
 * so a checkpoint never counts output that is not on disk. A finished export removes its checkpoint. A failed one
 * keeps its output and checkpoint for --resume.
 */
import { isCommentEvent, type Offset } from '@collab/core';
import { UsageError } from '../errors.js';
import { startProgress, type Progress } from '../progress.js';
import type { ExportSource } from '../storage/sources.js';
import {
  checkResumable,
  readCheckpoint,
  remainingRanges,
  removeCheckpoint,
  writeCheckpoint,
  type Checkpoint,
} from './checkpoint.js';
import { documentStartFromReadModels } from './document-start.js';
import { planRanges, type PartitionRange } from './plan.js';
import { requestToJson, type ExportRequest } from './request.js';
import { scanRanges, VersionCheck } from './scan.js';
import { createSink } from './sinks.js';

export interface RunOptions {
  /** Where the checkpoint is kept; undefined: none (stdout). */
  checkpoint: string | undefined;
  checkpointEvery: number;
  resume: boolean;
  progress: boolean;
}

const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n);

async function startingPoint(
  source: ExportSource,
  request: ExportRequest,
  options: RunOptions,
): Promise<{ ranges: PartitionRange[]; resumed?: Checkpoint }> {
  const path = options.checkpoint;
  const existing = path === undefined ? undefined : readCheckpoint(path);
  if (options.resume) {
    if (path === undefined || existing === undefined) {
      throw new UsageError(`--resume: no checkpoint at ${path ?? '(none)'}: nothing to resume`);
    }
    checkResumable(path, existing, request);
    return { ranges: existing.ranges, resumed: existing };
  }
  if (existing !== undefined) {
    throw new UsageError(
      `${path} holds the checkpoint of an unfinished export: continue it with --resume, or remove it to start over`,
    );
  }
  const documentStart =
    request.docs === 'all' || source.readModels === undefined
      ? async () => 0n
      : documentStartFromReadModels(source.log, source.readModels);
  return { ranges: await planRanges(source.log, request, documentStart) };
}

/** Runs the export; returns the summary line. */
export async function runExport(source: ExportSource, request: ExportRequest, options: RunOptions): Promise<string> {
  const { ranges, resumed } = await startingPoint(source, request, options);
  const docs = request.docs === 'all' ? undefined : new Set(request.docs);
  const wholeHistory =
    docs !== undefined &&
    request.since === undefined &&
    request.until === undefined &&
    request.fromOffsets.size === 0 &&
    request.toOffsets.size === 0;
  const versions = new VersionCheck(wholeHistory ? docs : new Set(), resumed?.versions);
  const next = new Map<number, Offset>(resumed?.next ?? ranges.map((r) => [r.partition, r.from]));
  let records = resumed?.records ?? 0; // ops and comment events
  let comments = resumed?.comments ?? 0;
  const sink = await createSink(request, resumed?.output);

  const total = Number(sum(ranges.map((r) => r.to - r.from)));
  const done = () => Number(sum(ranges.map((r) => (next.get(r.partition) ?? r.from) - r.from)));
  let progress: Progress | undefined;
  const checkpoint = async () => {
    const output = await sink.commit();
    if (options.checkpoint === undefined) return;
    await writeCheckpoint(options.checkpoint, {
      request: requestToJson(request),
      ranges,
      next,
      output,
      records,
      ...(request.comments === true ? { comments } : {}),
      versions: docs === undefined ? new Map() : versions.expected,
    });
  };

  try {
    // The first checkpoint before any record: a resume after an early interruption finds its file and plan.
    await checkpoint();
    progress = startProgress('export', total, options.progress);
    let sinceCheckpoint = 0;
    const todo = resumed === undefined ? ranges : remainingRanges(resumed);
    for await (const batch of scanRanges(source.log, todo, docs, versions, request.comments === true)) {
      for (const record of batch.records) await sink.write(record);
      next.set(batch.partition, batch.next);
      const commentCount = batch.records.filter(isCommentEvent).length;
      records += batch.records.length;
      comments += commentCount;
      sinceCheckpoint += batch.records.length;
      if (sinceCheckpoint >= options.checkpointEvery) {
        await checkpoint();
        sinceCheckpoint = 0;
      }
      progress.update(done(), `${records - comments} ops`);
    }
    await sink.end();
  } catch (err) {
    await sink.close().catch(() => {});
    throw err;
  } finally {
    progress?.stop();
  }
  if (options.checkpoint !== undefined) removeCheckpoint(options.checkpoint);
  const ops = records - comments;
  const where = `${request.comments === true ? ` and ${comments} comment event(s)` : ''} as ${request.format} to ${request.out ?? 'stdout'}`;
  if (wholeHistory && request.docs.length === 1) {
    return `exported ${ops} op(s) of ${request.docs[0]} (versions 1..${ops})${where}${resumed === undefined ? '' : ' (resumed)'}`;
  }
  // A resumed whole-stream export does not know the documents of the earlier run (the checkpoint keeps none).
  const documents =
    resumed !== undefined && docs === undefined ? 'the stream' : `${versions.expected.size} document(s)`;
  return `exported ${ops} op(s) of ${documents}${where}${resumed === undefined ? '' : ' (resumed)'}`;
}
