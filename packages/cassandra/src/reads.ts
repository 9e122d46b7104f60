/**
 * The read side. Every query is a slice of one partition; ranges that span buckets or days walk partitions in
 * order and stop as soon as the limit is reached.
 */
import { CollabError } from '@collab/core';
import type { DocHead, HistoryEntry, OpCommitted, Page, UserActivity } from '@collab/core';

import { decodeHistoryCursor, encodeHistoryCursor } from './cursor.js';
import type { Executor } from './executor.js';
import { opsAscending, opsDescending } from './op-range-reads.js';
import { num, str } from './rows.js';
import type { Statements } from './statements.js';
import { dayOf, timeIndexEvery } from './writes.js';

export interface ReadContext {
  exec: Executor;
  cql: Statements;
  bucketSize: number;
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
    const found = await opsAscending(ctx, docId, bucket, start, end, remaining);
    ops.push(...found);
    remaining -= found.length;
  }
  return ops;
}

/**
 * The highest version committed at or before `time`. Since migration 0002 the time index holds only the index
 * points (versions 1, 1 + K, 1 + 2K, ...; writes.ts) per (document, version bucket). Commit times rise with
 * versions (one sequencer per document stamps them), so "bucket b has a point at or before `time`" is true up
 * to some bucket and false above it: the head's bucket is tried first (recent times: one read), then a binary
 * search over the lower buckets (at most log2(buckets) more small reads). From the newest point P at or before
 * `time`, the answer is among P .. P + K - 1 (the next point is later than `time`): one read of at most K ops.
 * A document with rows from before 0002 (doc_days has a row) is also looked up in the 0001 tables.
 */
export async function versionAt(ctx: ReadContext, docId: string, time: number): Promise<number> {
  if (!Number.isFinite(time)) throw new CollabError('ERR_INVALID_ARGUMENT', `time must be a number, got ${time}`);
  const at = new Date(time);
  const [head, legacyDay] = await Promise.all([
    getHead(ctx, docId),
    ctx.exec.execute(ctx.cql.selectAnyDocDay, [docId], 'version at'),
  ]);
  const legacy = legacyDay.first() !== null && legacyDay.first() !== undefined;
  const atOrBefore = async (bucket: number): Promise<number | undefined> => {
    const row = (await ctx.exec.execute(ctx.cql.selectVersionTimeAt, [docId, bucket, at], 'version at')).first();
    return row === null || row === undefined ? undefined : num(row, 'version');
  };
  let found = 0;
  if (head !== undefined) {
    const top = ctx.bucketOf(head.version);
    const inTop = await atOrBefore(top);
    if (inTop !== undefined) found = inTop;
    else if (!legacy) {
      // Binary search for the highest bucket below `top` with an edit at or before `time`.
      let lo = 0;
      let hi = top - 1;
      while (lo <= hi) {
        const mid = Math.floor((lo + hi) / 2);
        const hit = await atOrBefore(mid);
        if (hit !== undefined) {
          found = hit;
          lo = mid + 1;
        } else hi = mid - 1;
      }
    } else {
      // Buckets written before 0002 are empty in version_times, which breaks the binary search's premise: walk
      // down instead, and stop at the first bucket version_times knows nothing about (older ones are in 0001's).
      for (let bucket = top - 1; bucket >= 0; bucket--) {
        const hit = await atOrBefore(bucket);
        if (hit !== undefined) {
          found = hit;
          break;
        }
        const any = (await ctx.exec.execute(ctx.cql.selectAnyVersionTime, [docId, bucket], 'version at')).first();
        if (any === null || any === undefined) break;
      }
    }
  }
  if (found > 0) found = await lastAtOrBefore(ctx, docId, found, time);
  if (!legacy) return found;
  // The 0001 answer, then the versions after it: those written since 0002 whose index point was written before
  // (so is in neither index) are among the next K.
  const old = await legacyVersionAt(ctx, docId, time);
  return Math.max(found, old > 0 ? await lastAtOrBefore(ctx, docId, old, time) : 0);
}

/** From index point `point` (committed at or before `time`), the last of the next K versions still at or before. */
async function lastAtOrBefore(ctx: ReadContext, docId: string, point: number, time: number): Promise<number> {
  const ops = await getOps(ctx, docId, point, point + timeIndexEvery(ctx.bucketSize));
  let found = point;
  for (const op of ops) {
    if (op.timestamp > time) break;
    found = op.version;
  }
  return found;
}

/** versionAt over the 0001 tables (versions_by_time per day, doc_days), for rows written before 0002. */
async function legacyVersionAt(ctx: ReadContext, docId: string, time: number): Promise<number> {
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
    for (const op of await opsDescending(ctx, docId, bucket, below, want - items.length)) {
      items.push({ version: op.version, userId: op.userId, clientId: op.clientId, timestamp: op.timestamp });
    }
  }
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  return { items: page, next: encodeHistoryCursor((page.at(-1) as HistoryEntry).version) };
}

/**
 * A user's most recent edits across documents, newest first (ties: doc_id, then version descending). Since
 * migration 0002: user_doc_buckets lists the (document, bucket) partitions of `ops` the user edited, with the
 * newest edit time of each; they are read newest first — each partition's ops newest first, the user's kept,
 * up to `limit` — until the `limit`-th newest edit found is newer than anything the next partition can hold.
 * Reading a partition costs the ops of every editor of that bucket down to the user's `limit`-th edit (at most
 * BUCKET_SIZE rows). Users with rows from before 0002 (user_days has a row) get the 0001 tables' answer merged in.
 */
export async function userActivity(
  ctx: ReadContext,
  userId: string,
  options: { limit?: number } = {},
): Promise<UserActivity[]> {
  const limit = checkLimit(options.limit, DEFAULT_PAGE_LIMIT);
  const [partitions, legacyDay] = await Promise.all([
    readUserDocBuckets(ctx, userId),
    ctx.exec.execute(ctx.cql.selectAnyUserDay, [userId], 'user activity'),
  ]);
  partitions.sort((a, b) => b.last - a.last);
  let items: UserActivity[] = [];
  for (let i = 0; i < partitions.length; i++) {
    const { docId, bucket } = partitions[i] as (typeof partitions)[number];
    items.push(...(await userEditsInBucket(ctx, userId, docId, bucket, limit)));
    const next = partitions[i + 1];
    if (items.length >= limit && next !== undefined) {
      items = newestFirst(items).slice(0, limit);
      if ((items.at(-1) as UserActivity).timestamp > next.last) break;
    }
  }
  if (legacyDay.first() !== null && legacyDay.first() !== undefined) {
    const seen = new Set(items.map((a) => `${a.version}\u0000${a.docId}`));
    for (const a of await legacyUserActivity(ctx, userId, limit)) {
      if (!seen.has(`${a.version}\u0000${a.docId}`)) items.push(a);
    }
  }
  return newestFirst(items).slice(0, limit);
}

/** The user's newest `limit` edits in one (document, bucket) partition of the ops, read newest first. */
async function userEditsInBucket(
  ctx: ReadContext,
  userId: string,
  docId: string,
  bucket: number,
  limit: number,
): Promise<UserActivity[]> {
  const bucketEnd = (bucket + 1) * ctx.bucketSize; // above every version of the bucket
  const edits = await opsDescending(ctx, docId, bucket, bucketEnd, limit, (op) => op.userId === userId);
  return edits.map((op) => ({ userId, docId, version: op.version, timestamp: op.timestamp }));
}

const newestFirst = (items: UserActivity[]): UserActivity[] =>
  items.sort(
    (a, b) =>
      b.timestamp - a.timestamp || (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0) || b.version - a.version,
  );

async function readUserDocBuckets(ctx: ReadContext, userId: string) {
  const found: { docId: string; bucket: number; last: number }[] = [];
  let pageState: string | undefined;
  do {
    const result = await ctx.exec.execute(ctx.cql.selectUserDocBuckets, [userId], 'user activity', {
      fetchSize: 5_000,
      ...(pageState !== undefined ? { pageState } : {}),
    });
    for (const row of result.rows) {
      found.push({ docId: str(row, 'doc_id'), bucket: num(row, 'bucket'), last: num(row, 'last_ts') });
    }
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
  return found;
}

/** userActivity over the 0001 tables (user_activity per day, user_days), for rows written before 0002. */
async function legacyUserActivity(ctx: ReadContext, userId: string, limit: number): Promise<UserActivity[]> {
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
