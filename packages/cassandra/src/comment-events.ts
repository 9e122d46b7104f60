/**
 * The comment-events read model (migration 0005): one row per event, keyed by (doc_id, version, log_offset), so
 * a replay writes the same rows again. Rows of one document are one partition; the clustering order is the log's.
 */
import cassandra from 'cassandra-driver';

import { checkStoredCommentEvent, CollabError } from '@collab/core';
import type { CommentEvent, StoredCommentEvent } from '@collab/core';

import { forEachConcurrent } from './concurrency.js';
import type { Executor } from './executor.js';
import { str } from './rows.js';
import type { Statements } from './statements.js';

export interface CommentEventsContext {
  exec: Executor;
  cql: Statements;
  writeConcurrency: number;
}

export async function writeCommentEvents(
  ctx: CommentEventsContext,
  events: readonly StoredCommentEvent[],
): Promise<void> {
  events.forEach(checkStoredCommentEvent);
  await forEachConcurrent(events, ctx.writeConcurrency, async ({ offset, event }) => {
    await ctx.exec.execute(
      ctx.cql.insertCommentEvent,
      [event.docId, event.version, cassandra.types.Long.fromString(offset.toString()), JSON.stringify(event)],
      'write comment event',
    );
  });
}

export async function getCommentEvents(
  ctx: CommentEventsContext,
  docId: string,
  fromVersion = 0,
  toVersion = Number.MAX_SAFE_INTEGER,
): Promise<StoredCommentEvent[]> {
  const events: StoredCommentEvent[] = [];
  let pageState: string | undefined;
  do {
    const result = await ctx.exec.execute(
      ctx.cql.selectCommentEvents,
      [docId, fromVersion, toVersion],
      'comment events',
      {
        fetchSize: 5_000,
        ...(pageState !== undefined ? { pageState } : {}),
      },
    );
    for (const row of result.rows) {
      const offset = BigInt(String(row.get('log_offset')));
      let event: CommentEvent;
      try {
        event = JSON.parse(str(row, 'event')) as CommentEvent;
      } catch (cause) {
        throw new CollabError('ERR_CORRUPT', `Cassandra read model: comment event at offset ${offset} is not JSON`, {
          cause,
          retriable: false,
        });
      }
      events.push({ offset, event });
    }
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
  return events;
}
