/**
 * The consistency check after a rebuild: does the rebuilt keyspace agree with the live one? For every document in
 * either keyspace: same head (version, length, last user, updated at) and the same number of stored op versions.
 *
 * Cassandra-specific (it scans whole tables, which the ReadModelStore port deliberately cannot do). A full scan
 * of the ops is fine for a check run once after a rebuild; on a very large keyspace run it off-peak.
 *
 * The live keyspace keeps moving while a rebuild runs, so a document edited after the rebuild's end offsets were
 * taken shows up as "live is ahead": rebuild again from the rebuilt keyspace's position, or compare at a quiet
 * moment. Any other difference is a bug.
 */
import { BLOCK_SIZE } from '@collab/adapter-cassandra';
import type { Client } from 'cassandra-driver';

export interface HeadRow {
  version: number;
  length: number;
  lastUserId: string;
  updatedAt: number;
}

export type Difference =
  | { docId: string; kind: 'missing-in-rebuilt' | 'missing-in-live' }
  | { docId: string; kind: 'live-ahead' | 'head-differs'; live: HeadRow; rebuilt: HeadRow }
  | { docId: string; kind: 'op-count-differs'; live: number; rebuilt: number };

export interface ConsistencyReport {
  documents: number;
  ops: { live: number; rebuilt: number };
  differences: Difference[];
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

async function scan(client: Client, cql: string, onRow: (row: Record<string, unknown>) => void): Promise<void> {
  let pageState: string | undefined;
  do {
    const result = await client.execute(cql, [], { prepare: true, fetchSize: 5_000, pageState });
    for (const row of result.rows) onRow(row as unknown as Record<string, unknown>);
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
}

export async function readHeads(client: Client, keyspace: string): Promise<Map<string, HeadRow>> {
  const heads = new Map<string, HeadRow>();
  await scan(client, `SELECT doc_id, version, length, last_user_id, updated_at FROM ${keyspace}.doc_heads`, (r) => {
    heads.set(String(r.doc_id), {
      version: num(r.version),
      length: num(r.length),
      lastUserId: String(r.last_user_id),
      updatedAt: r.updated_at instanceof Date ? r.updated_at.getTime() : num(r.updated_at),
    });
  });
  return heads;
}

/**
 * Stored op versions per document: the map entries of `op_blocks` (migration 0003; a version is in one block) plus
 * rows of the 0001 table `ops` written before it, each version once.
 */
export async function countOps(client: Client, keyspace: string): Promise<Map<string, number>> {
  const legacy = new Map<string, Set<number>>();
  await scan(client, `SELECT doc_id, version FROM ${keyspace}.ops`, (r) => {
    const docId = String(r.doc_id);
    const versions = legacy.get(docId) ?? new Set<number>();
    legacy.set(docId, versions.add(num(r.version)));
  });
  const counts = new Map<string, number>([...legacy].map(([docId, versions]) => [docId, versions.size]));
  await scan(client, `SELECT doc_id, block, ops FROM ${keyspace}.op_blocks`, (r) => {
    const docId = String(r.doc_id);
    const old = legacy.get(docId);
    const first = num(r.block) * BLOCK_SIZE; // the version at place 0 of the block
    const added = Object.keys((r.ops ?? {}) as object).filter((p) => old === undefined || !old.has(first + Number(p)));
    counts.set(docId, (counts.get(docId) ?? 0) + added.length);
  });
  return counts;
}

const sameHead = (a: HeadRow, b: HeadRow) =>
  a.version === b.version && a.length === b.length && a.lastUserId === b.lastUserId && a.updatedAt === b.updatedAt;

export async function compareKeyspaces(client: Client, live: string, rebuilt: string): Promise<ConsistencyReport> {
  const [liveHeads, rebuiltHeads, liveCounts, rebuiltCounts] = await Promise.all([
    readHeads(client, live),
    readHeads(client, rebuilt),
    countOps(client, live),
    countOps(client, rebuilt),
  ]);
  const docs = new Set([...liveHeads.keys(), ...rebuiltHeads.keys(), ...liveCounts.keys(), ...rebuiltCounts.keys()]);
  const differences: Difference[] = [];
  for (const docId of [...docs].sort()) {
    const l = liveHeads.get(docId);
    const r = rebuiltHeads.get(docId);
    if (l === undefined && r !== undefined) differences.push({ docId, kind: 'missing-in-live' });
    else if (r === undefined && l !== undefined) differences.push({ docId, kind: 'missing-in-rebuilt' });
    else if (l !== undefined && r !== undefined && !sameHead(l, r)) {
      differences.push({ docId, kind: l.version > r.version ? 'live-ahead' : 'head-differs', live: l, rebuilt: r });
    } else {
      const lc = liveCounts.get(docId) ?? 0;
      const rc = rebuiltCounts.get(docId) ?? 0;
      if (lc !== rc) differences.push({ docId, kind: 'op-count-differs', live: lc, rebuilt: rc });
    }
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return { documents: docs.size, ops: { live: sum(liveCounts), rebuilt: sum(rebuiltCounts) }, differences };
}

export function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'missing-in-live':
    case 'missing-in-rebuilt':
      return `${d.docId}: ${d.kind}`;
    case 'op-count-differs':
      return `${d.docId}: ops live ${d.live}, rebuilt ${d.rebuilt}`;
    default:
      return `${d.docId}: ${d.kind}: live ${JSON.stringify(d.live)}, rebuilt ${JSON.stringify(d.rebuilt)}`;
  }
}
