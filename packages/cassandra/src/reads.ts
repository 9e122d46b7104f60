/**
 * The read side. Every query is a slice of one partition; ranges that span buckets or days walk partitions in
 * order and stop as soon as the limit is reached.
 */
import { CollabError } from '@collab/core';
import type { DocHead, HistoryEntry, OpCommitted, Page, UserActivity } from '@collab/core';

import { decodeHistoryCursor, encodeHistoryCursor } from './cursor.js';
import type { Executor } from './executor.js';
import { num, str, toOpCommitted } from './rows.js';
import type { Statements } from './statements.js';
import { dayOf } from './writes.js';

export interface ReadContext {
  exec: Executor;
  cql: Statements;
  bucketOf(version: number): number;
  pageSize: number;
}

const DEFAULT_PAGE_LIMIT = 50;
/** Days of user_days read per query while looking for enough activity. */
const DAYS_PER_READ = 16;

const checkLimit = (limit: number | undefined, fallback: number): number => {
  const value = limit ?? fallback;
  if (!(Number.isSafeInteger(value) || value === Infinity) || value < 1) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `limit must be a positive integer, got ${limit}`);
  }
  return value;
};

const checkVersion = (name: string, value: number): number => {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `${name} must be an integer >= 0, got ${value}`);
  }
  return value;
};

export async function getHead(ctx: ReadContext, docId: string): Promise<DocHead | undefined> {
  const row = (await ctx.exec.execute(ctx.cql.selectHead, [docId], 'read head')).first();
  if (row === null || row === undefined) return undefined;
  return {
    docId,
    version: num(row, 'version'),
    length: num(row, 'length'),
    lastUserId: str(row, 'last_user_id'),
    updatedAt: num(row, 'updated_at'),
  };
}

export async function getOps(
  ctx: ReadContext,
  docId: string,
  from: number,
  to?: number,
  limit?: number,
): Promise<OpCommitted[]> {
  checkVersion('from', from);
  let end = to === undefined ? undefined : checkVersion('to', to);
  let remaining = checkLimit(limit, Infinity);
  // Without `to`, the head bounds the range (ops written past a gap are stored but not yet part of the document).
  // With `to`, no head read: catch-up reads already know how far they want to go.
  end ??= ((await getHead(ctx, docId))?.version ?? 0) + 1;
  const start = Math.max(from, 1);
  const ops: OpCommitted[] = [];
  for (let bucket = ctx.bucketOf(start); start < end && bucket <= ctx.bucketOf(end - 1) && remaining > 0; bucket++) {
    let pageState: string | undefined;
    do {
      const result = await ctx.exec.execute(
        ctx.cql.selectOps,
        [docId, bucket, start, end, Math.min(remaining, 2 ** 31 - 1)],
        'read ops',
        { fetchSize: Math.min(ctx.pageSize, remaining), ...(pageState !== undefined ? { pageState } : {}) },
      );
      for (const row of result.rows) ops.push(toOpCommitted(docId, row));
      remaining -= result.rows.length;
      pageState = result.pageState ?? undefined;
    } while (pageState !== undefined && remaining > 0);
  }
  return ops;
}

export async function versionAt(ctx: ReadContext, docId: string, time: number): Promise<number> {
  if (!Number.isFinite(time)) throw new CollabError('ERR_INVALID_ARGUMENT', `time must be a number, got ${time}`);
  const at = new Date(time);
  const day = dayOf(time);
  const inDay = await ctx.exec.execute(ctx.cql.selectVersionAtInDay, [docId, day, at], 'version at');
  const hit = inDay.first();
  if (hit !== null && hit !== undefined) return num(hit, 'version');
  // Nothing that day up to `time`: the newest edit of the latest earlier day with edits, if any.
  const earlier = (await ctx.exec.execute(ctx.cql.selectDocDayBefore, [docId, day], 'version at')).first();
  if (earlier === null || earlier === undefined) return 0;
  const prev = await ctx.exec.execute(ctx.cql.selectVersionAtInDay, [docId, num(earlier, 'day'), at], 'version at');
  const row = prev.first();
  return row === null || row === undefined ? 0 : num(row, 'version');
}

export async function history(
  ctx: ReadContext,
  docId: string,
  options: { limit?: number; cursor?: string } = {},
): Promise<Page<HistoryEntry>> {
  const limit = checkLimit(options.limit, DEFAULT_PAGE_LIMIT);
  let below: number;
  if (options.cursor !== undefined) below = decodeHistoryCursor(options.cursor);
  else below = ((await getHead(ctx, docId))?.version ?? 0) + 1;
  // One row more than asked tells whether there is a next page without an empty last page.
  const want = limit === Infinity ? Infinity : limit + 1;
  const items: HistoryEntry[] = [];
  for (let bucket = ctx.bucketOf(below - 1); below > 1 && bucket >= 0 && items.length < want; bucket--) {
    const result = await ctx.exec.execute(
      ctx.cql.selectHistory,
      [docId, bucket, below, Math.min(want - items.length, 2 ** 31 - 1)],
      'read history',
    );
    for (const row of result.rows) {
      items.push({
        version: num(row, 'version'),
        userId: str(row, 'user_id'),
        clientId: str(row, 'client_id'),
        timestamp: num(row, 'ts'),
      });
    }
  }
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  return { items: page, next: encodeHistoryCursor((page.at(-1) as HistoryEntry).version) };
}

export async function userActivity(
  ctx: ReadContext,
  userId: string,
  options: { limit?: number } = {},
): Promise<UserActivity[]> {
  const limit = checkLimit(options.limit, DEFAULT_PAGE_LIMIT);
  const items: UserActivity[] = [];
  let beforeDay = 2 ** 31 - 1;
  while (items.length < limit) {
    const days = await ctx.exec.execute(ctx.cql.selectUserDays, [userId, beforeDay, DAYS_PER_READ], 'user days');
    for (const dayRow of days.rows) {
      const day = num(dayRow, 'day');
      beforeDay = day;
      const rows = await ctx.exec.execute(
        ctx.cql.selectUserActivity,
        [userId, day, Math.min(limit - items.length, 2 ** 31 - 1)],
        'user activity',
      );
      for (const row of rows.rows) {
        items.push({ userId, docId: str(row, 'doc_id'), version: num(row, 'version'), timestamp: num(row, 'ts') });
      }
      if (items.length >= limit) break;
    }
    if (days.rows.length < DAYS_PER_READ) break;
  }
  return items;
}
