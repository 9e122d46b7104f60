/**
 * Loads the editing traces of `josephg/editing-traces` (CC BY 4.0; see ../shared/traces/CREDITS.md: automerge-paper
 * by Martin Kleppmann, json-crdt-* by Vadim Dalecky, seph-blog1 / rustcode / sveltecomponent / friendsforever /
 * clownschool by Joseph Gentle). They live beside the repository, never in it: `COLLAB_TRACES_DIR` or
 * `<repo>/../shared/traces`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { TextOp } from '../../src/index.js';

export type Patch = [pos: number, del: number, ins: string];

export interface SequentialTrace {
  startContent: string;
  endContent: string;
  txns: Array<{ time?: string; patches: Patch[] }>;
}

export interface ConcurrentTrace {
  kind: 'concurrent';
  endContent: string;
  numAgents: number;
  txns: Array<{ parents: number[]; numChildren: number; agent: number; time?: string; patches: Patch[] }>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export function tracesDir(): string | undefined {
  const dir = process.env.COLLAB_TRACES_DIR ?? join(repoRoot, '..', 'shared', 'traces');
  return existsSync(dir) ? dir : undefined;
}

export const MISSING_TRACES_MESSAGE =
  'Editing traces not found: set COLLAB_TRACES_DIR or place them at ../shared/traces beside the repository.';

export function listSequentialTraces(dir: string): string[] {
  return readdirSync(join(dir, 'sequential_traces'))
    .filter((f) => f.endsWith('.json.gz'))
    .map((f) => f.replace(/\.json\.gz$/, ''))
    .sort();
}

export function loadTrace<T>(dir: string, kind: 'sequential_traces' | 'concurrent_traces', name: string): T {
  return JSON.parse(gunzipSync(readFileSync(join(dir, kind, `${name}.json.gz`))).toString('utf8')) as T;
}

/** A patch as a normalized text-unicode op. */
export function patchToOp([pos, del, ins]: Patch): TextOp {
  const op: TextOp = [];
  if (pos > 0) op.push(pos);
  if (del > 0) op.push({ d: del });
  if (ins.length > 0) op.push(ins);
  return op;
}
