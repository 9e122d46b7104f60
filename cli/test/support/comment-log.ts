/**
 * The server's truth about a document's comment threads: its log, read from the embedded server's SQLite file and
 * folded with the core's own rules — the states after every prefix of the log, by version (op N, then each comment
 * event at N). A client's threads at version N must equal one of the states at N.
 */
import { join } from 'node:path';
import type { CommentsState, DocumentState, LogValue } from '@collab/core';
import { evolve, evolveComment, initialState, isCommentEvent } from '@collab/core';
import { openDatabase } from '@collab/adapter-sqlite';

export interface LogTruth {
  /** Per version: the threads after op N and after each comment event at N, in log order. */
  states: Map<number, CommentsState[]>;
  final: DocumentState;
  /** The log, one line per record (for failure messages). */
  records: string[];
}

export function readCommentTruth(dataDir: string, docId: string): LogTruth {
  const { db } = openDatabase(join(dataDir, 'collab.db'), { busyTimeoutMs: 5_000 });
  try {
    const rows = db
      .prepare('SELECT value FROM log_records WHERE doc_id = ? ORDER BY partition_id, record_offset')
      .all(docId) as { value: string }[];
    let state = initialState(docId);
    const states = new Map<number, CommentsState[]>([[0, [state.comments]]]);
    const records: string[] = [];
    for (const { value } of rows) {
      const record = JSON.parse(value) as LogValue;
      records.push(
        isCommentEvent(record)
          ? `${record.version} ${record.userId} ${record.body.kind} ${record.body.threadId}`
          : `${record.version} op by ${record.userId}`,
      );
      if (isCommentEvent(record)) state = evolveComment(state, record);
      else state = evolve(state, record, 0);
      const at = states.get(state.version) ?? [];
      at.push(state.comments);
      states.set(state.version, at);
    }
    return { states, final: state, records };
  } finally {
    db.close();
  }
}

/** Threads as comparable JSON: sorted by id, keys sorted, every field the wire carries. */
export function threadsJson(threads: Iterable<unknown>): string {
  const list = [...threads] as { threadId: string }[];
  list.sort((a, b) => (a.threadId < b.threadId ? -1 : a.threadId > b.threadId ? 1 : 0));
  return JSON.stringify(list, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
}
