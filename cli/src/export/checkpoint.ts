/**
 * The checkpoint of an export to a file: the request, the planned ranges, each partition's next offset, where the
 * output stood when those offsets were reached (bytes of the file, or part files of a Parquet directory) and the
 * version each listed document is at. It is written only after the output up to that point is on disk (fsync),
 * and atomically (write-file-atomic: a temporary file, fsync, rename), so a crash leaves either the old or the new
 * checkpoint, and the output never holds less than a checkpoint says. `--resume` cuts the output back to the
 * checkpoint's position and reads on from its offsets: every record exactly once.
 */
import { readFileSync, rmSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { CollabError, type Offset } from '@collab/core';
import { UsageError } from '../errors.js';
import type { PartitionRange } from './plan.js';
import { requestToJson, type ExportRequest } from './request.js';

/** Bytes of an NDJSON or Avro file, or complete part files of a Parquet directory. */
export type OutputPosition = { bytes: number } | { parts: number };

export interface Checkpoint {
  request: Record<string, unknown>;
  ranges: PartitionRange[];
  /** Per partition, the next offset to read. */
  next: Map<number, Offset>;
  output: OutputPosition;
  /** Records written: ops, and comment events when asked for. */
  records: number;
  /** Of `records`, the comment events (an export with --comments). */
  comments?: number;
  /** For a list of documents: the version each one expects next (a whole-stream export does not keep them). */
  versions: Map<string, number>;
}

const FORMAT = 1;

export const defaultCheckpointPath = (out: string): string => `${out}.checkpoint.json`;

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const json = {
    format: FORMAT,
    request: checkpoint.request,
    ranges: checkpoint.ranges.map((r) => ({ partition: r.partition, from: r.from.toString(), to: r.to.toString() })),
    next: Object.fromEntries([...checkpoint.next].map(([p, o]) => [String(p), o.toString()])),
    output: checkpoint.output,
    records: checkpoint.records,
    ...(checkpoint.comments === undefined ? {} : { comments: checkpoint.comments }),
    versions: Object.fromEntries(checkpoint.versions),
  };
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
}

/** The checkpoint at `path`, or undefined when there is none. A file that is not one fails with ERR_CORRUPT. */
export function readCheckpoint(path: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const json = JSON.parse(text) as {
      format: number;
      request: Record<string, unknown>;
      ranges: { partition: number; from: string; to: string }[];
      next: Record<string, string>;
      output: OutputPosition;
      records: number;
      comments?: number;
      versions: Record<string, number>;
    };
    if (json.format !== FORMAT) throw new Error(`format ${json.format}, not ${FORMAT}`);
    const output = json.output;
    const position = 'bytes' in output ? output.bytes : output.parts;
    if (!Number.isSafeInteger(position) || position < 0) throw new Error('a bad output position');
    return {
      request: json.request,
      ranges: json.ranges.map((r) => ({ partition: r.partition, from: BigInt(r.from), to: BigInt(r.to) })),
      next: new Map(Object.entries(json.next).map(([p, o]) => [Number(p), BigInt(o)])),
      output,
      records: json.records,
      ...(json.comments === undefined ? {} : { comments: json.comments }),
      versions: new Map(Object.entries(json.versions)),
    };
  } catch (err) {
    throw new CollabError('ERR_CORRUPT', `${path} is not an export checkpoint: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export const removeCheckpoint = (path: string): void => rmSync(path, { force: true });

/** A resume must continue the same export: the same request, into the same output. */
export function checkResumable(path: string, checkpoint: Checkpoint, request: ExportRequest): void {
  const asked = requestToJson(request);
  const differ = Object.keys(asked).filter(
    (key) => JSON.stringify(asked[key]) !== JSON.stringify(checkpoint.request[key]),
  );
  if (differ.length > 0) {
    throw new UsageError(
      `--resume: ${path} is the checkpoint of another export (${differ.map((k) => `${k} differs`).join(', ')}); run the same command with --resume, or remove it to start over`,
    );
  }
}

/** The ranges still to read: each planned range from its checkpointed next offset. */
export const remainingRanges = (checkpoint: Checkpoint): PartitionRange[] =>
  checkpoint.ranges.map((r) => ({ ...r, from: checkpoint.next.get(r.partition) ?? r.from }));
