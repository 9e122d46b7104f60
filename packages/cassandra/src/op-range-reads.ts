/**
 * Reading a document's ops from one (doc_id, bucket) partition, by version, whichever way they were stored:
 * blocks in `op_blocks` (migration 0003, op-blocks.ts) merged with rows of the 0001 table `ops` (written before
 * 0003; empty in keyspaces created since). Both are read in parallel; a version is in at most one block, and if
 * it is in both tables (a keyspace migrated while its projection ran) the two agree.
 */
import type { types } from 'cassandra-driver';

import type { OpCommitted } from '@collab/core';

import type { Executor } from './executor.js';
import { BLOCK_SIZE, blockOf, decodeBlock } from './op-blocks.js';
import { num, str, toOpCommitted } from './rows.js';
import type { Statements } from './statements.js';

export interface RangeReadContext {
  exec: Executor;
  cql: Statements;
  pageSize: number;
  bucketOf(version: number): number;
}

/** What descending reads (history, user activity) need of an op. */
export interface OpMeta {
  version: number;
  userId: string;
  clientId: string;
  timestamp: number;
}

const MAX_LIMIT = 2 ** 31 - 1;

/** Pages through a query (`rows` per page, at most the store's page size); `onRows` returns false to stop. */
async function paged(
  ctx: RangeReadContext,
  query: string,
  params: unknown[],
  what: string,
  rows: number,
  onRows: (rows: types.Row[]) => boolean,
): Promise<void> {
  let pageState: string | undefined;
  do {
    const result = await ctx.exec.execute(query, params, what, {
      fetchSize: Math.max(1, Math.min(ctx.pageSize, rows)),
      ...(pageState !== undefined ? { pageState } : {}),
    });
    if (!onRows(result.rows)) return;
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
}

const blockRows = (ctx: RangeReadContext, docId: string, bucket: number, row: types.Row): OpCommitted[] =>
  decodeBlock(docId, bucket, num(row, 'block'), row.get('ops'), ctx.bucketOf);

/** Versions from <= v < end of one bucket, ascending, at most `limit`. */
export async function opsAscending(
  ctx: RangeReadContext,
  docId: string,
  bucket: number,
  from: number,
  end: number,
  limit: number,
): Promise<OpCommitted[]> {
  const fromBlocks = async (): Promise<OpCommitted[]> => {
    const out: OpCommitted[] = [];
    const blocks = Math.ceil(Math.min(limit, end - from) / BLOCK_SIZE) + 1;
    const params = [docId, bucket, blockOf(from), blockOf(end - 1)];
    await paged(ctx, ctx.cql.selectOpBlocks, params, 'read ops', blocks, (rows) => {
      for (const row of rows) {
        for (const op of blockRows(ctx, docId, bucket, row)) {
          if (op.version < from || op.version >= end) continue;
          out.push(op);
          if (out.length >= limit) return false;
        }
      }
      return true;
    });
    return out;
  };
  const fromLegacy = async (): Promise<OpCommitted[]> => {
    const out: OpCommitted[] = [];
    const params = [docId, bucket, from, end, Math.min(limit, MAX_LIMIT)];
    await paged(ctx, ctx.cql.selectLegacyOps, params, 'read ops', limit, (rows) => {
      for (const row of rows) out.push(toOpCommitted(docId, row));
      return out.length < limit;
    });
    return out;
  };
  const [blocks, legacy] = await Promise.all([fromBlocks(), fromLegacy()]);
  if (legacy.length === 0) return blocks;
  return mergeByVersion(blocks, legacy, (a, b) => a.version - b.version).slice(0, limit);
}

/**
 * Versions below `below` of one bucket, newest first, keeping those `keep` accepts, until `want` are kept (or
 * the bucket is exhausted).
 */
export async function opsDescending(
  ctx: RangeReadContext,
  docId: string,
  bucket: number,
  below: number,
  want: number,
  keep?: (op: OpMeta) => boolean,
): Promise<OpMeta[]> {
  const kept = (op: OpMeta) => op.version < below && (keep === undefined || keep(op));
  // Unfiltered, `want` versions are in at most want / BLOCK_SIZE + 2 blocks; filtered, any number may be needed.
  const pageRows = keep === undefined ? Math.ceil(want / BLOCK_SIZE) + 1 : ctx.pageSize;
  const fromBlocks = async (): Promise<OpMeta[]> => {
    const out: OpMeta[] = [];
    await paged(ctx, ctx.cql.selectOpBlocksDesc, [docId, bucket, blockOf(below - 1)], 'read ops', pageRows, (rows) => {
      for (const row of rows) {
        for (const op of blockRows(ctx, docId, bucket, row).reverse()) {
          if (!kept(op)) continue;
          out.push(op);
          if (out.length >= want) return false;
        }
      }
      return true;
    });
    return out;
  };
  const fromLegacy = async (): Promise<OpMeta[]> => {
    const out: OpMeta[] = [];
    await paged(ctx, ctx.cql.selectLegacyOpsDesc, [docId, bucket, below], 'read ops', pageRows, (rows) => {
      for (const row of rows) {
        const op = {
          version: num(row, 'version'),
          userId: str(row, 'user_id'),
          clientId: str(row, 'client_id'),
          timestamp: num(row, 'ts'),
        };
        if (kept(op)) out.push(op);
        if (out.length >= want) return false;
      }
      return true;
    });
    return out;
  };
  const [blocks, legacy] = await Promise.all([fromBlocks(), fromLegacy()]);
  if (legacy.length === 0) return blocks;
  return mergeByVersion(blocks, legacy, (a, b) => b.version - a.version).slice(0, want);
}

function mergeByVersion<T extends { version: number }>(a: T[], b: T[], order: (x: T, y: T) => number): T[] {
  const byVersion = new Map<number, T>();
  for (const op of b) byVersion.set(op.version, op);
  for (const op of a) byVersion.set(op.version, op);
  return [...byVersion.values()].sort(order);
}
