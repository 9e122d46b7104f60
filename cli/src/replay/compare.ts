/**
 * Comparing two read-model stores document by document: the heads (version, length, last user, time) and,
 * optionally, every op row. Used after an embedded replay to show the rebuilt read models equal the live ones.
 */
import type { DocHead, OpCommitted, ReadModelStore } from '@collab/core';

export interface StoreDifference {
  docId: string;
  reason: string;
}

export interface StoreComparison {
  documents: number;
  ops: number;
  differences: StoreDifference[];
}

const HEAD_FIELDS = ['version', 'length', 'lastUserId', 'updatedAt'] as const;

/** Why two heads of one document differ, or undefined when they are equal. */
export function diffHeads(live: DocHead | undefined, rebuilt: DocHead | undefined): string | undefined {
  if (live === undefined && rebuilt === undefined) return undefined;
  if (live === undefined) return `only in the rebuilt read models (version ${rebuilt!.version})`;
  if (rebuilt === undefined) return `missing from the rebuilt read models (live version ${live.version})`;
  const fields = HEAD_FIELDS.filter((f) => live[f] !== rebuilt[f]);
  if (fields.length === 0) return undefined;
  return `head differs: ${fields.map((f) => `${f} live ${String(live[f])}, rebuilt ${String(rebuilt[f])}`).join('; ')}`;
}

/** The first version at which two op lists differ, or undefined. */
export function diffOps(live: readonly OpCommitted[], rebuilt: readonly OpCommitted[]): string | undefined {
  const n = Math.max(live.length, rebuilt.length);
  for (let i = 0; i < n; i++) {
    const a = live[i];
    const b = rebuilt[i];
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      const version = a?.version ?? b?.version ?? i + 1;
      return `op rows differ at version ${version}${a === undefined ? ' (not live)' : b === undefined ? ' (not rebuilt)' : ''}`;
    }
  }
  return undefined;
}

const PAGE = 5_000;

async function allOps(store: ReadModelStore, docId: string, upTo: number): Promise<OpCommitted[]> {
  const ops: OpCommitted[] = [];
  for (let from = 1; from <= upTo; from += PAGE) {
    ops.push(...(await store.getOps(docId, from, Math.min(from + PAGE, upTo + 1))));
  }
  return ops;
}

export async function compareStores(
  docIds: Iterable<string>,
  live: ReadModelStore,
  rebuilt: ReadModelStore,
  options: { ops: boolean },
): Promise<StoreComparison> {
  const differences: StoreDifference[] = [];
  let documents = 0;
  let ops = 0;
  for (const docId of [...new Set(docIds)].sort()) {
    documents++;
    const [a, b] = await Promise.all([live.getHead(docId), rebuilt.getHead(docId)]);
    const headReason = diffHeads(a, b);
    if (headReason !== undefined) {
      differences.push({ docId, reason: headReason });
      continue;
    }
    if (!options.ops || a === undefined) continue;
    const [liveOps, rebuiltOps] = await Promise.all([
      allOps(live, docId, a.version),
      allOps(rebuilt, docId, a.version),
    ]);
    ops += rebuiltOps.length;
    const opsReason = diffOps(liveOps, rebuiltOps);
    if (opsReason !== undefined) differences.push({ docId, reason: opsReason });
  }
  return { documents, ops, differences };
}
