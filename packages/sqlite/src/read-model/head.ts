/**
 * Moving a document's head forward, inside the writeOps transaction.
 *
 * The head's `length` is the previous head's length plus each following op's length change, which is only right
 * if those ops really are consecutive; so the head walks the stored ops head+1, head+2, ... and stops at the first
 * missing version (with ops 1, 2 and 4 stored it stays at 2; once 3 arrives it moves to 4 in one step). A replay
 * of old ops finds nothing past the head and writes nothing. No compare-and-set is needed, unlike Cassandra's:
 * the transaction holds SQLite's write lock from the head read to the head write, so no other writer (in this
 * process or another) can move the head in between; the upsert's WHERE still refuses to move it backwards.
 */
import { CollabError, type OpCommitted } from '@collab/core';
import { lengthDelta } from './op-length.js';
import type { ReadModelStatements } from './statements.js';

export function advanceHead(sql: ReadModelStatements, docId: string): void {
  const head = sql.selectHead.get(docId);
  let version = head?.version ?? 0;
  let length = head?.length ?? 0;
  let last: { userId: string; ts: number } | undefined;
  // Collect first, write after: better-sqlite3 refuses other statements while an iterator is open.
  for (const row of sql.selectOpsAfter.iterate(docId, version)) {
    if (row.version !== version + 1) break;
    length += lengthDelta(parseOp(docId, row.version, row.op));
    version = row.version;
    last = { userId: row.user_id, ts: row.ts };
  }
  if (last !== undefined) sql.upsertHead.run(docId, version, length, last.userId, last.ts);
}

export function parseOp(docId: string, version: number, json: string): OpCommitted['op'] {
  try {
    return JSON.parse(json) as OpCommitted['op'];
  } catch (cause) {
    throw new CollabError('ERR_CORRUPT', `stored op ${docId}@${version} is not valid JSON`, {
      cause,
      retriable: false,
    });
  }
}
