/**
 * The document source on the op log alone: a load scans the document's partition from offset 0, a catch-up reads
 * it up to the last version asked for. Correct, but it grows with the partition; the read-side source
 * (read-side-source.ts) reads the log only from the projection's committed offset, and falls back to this.
 */
import type { DocumentState, LogRecord, Offset, OpCommitted, OpLog, StoredCommentEvent } from '@collab/core';
import { isCommentEvent } from '@collab/core';
import { loadFromLog } from './document-loader.js';
import type { DocumentSource, SourceEvent } from './document-source.js';
import { collectRange } from './history-fold.js';

/**
 * Records of `docId` in `partition` from `from` to the end — its ops, and its comment events with their offsets —
 * with how many records of the partition were read. Stops after the op of version `stopAfterVersion`.
 */
export async function readDocumentTail(
  log: OpLog,
  partition: number,
  docId: string,
  from: Offset,
  stopAfterVersion = Infinity,
): Promise<{ ops: OpCommitted[]; events: StoredCommentEvent[]; scanned: number }> {
  const ops: OpCommitted[] = [];
  const events: StoredCommentEvent[] = [];
  let scanned = 0;
  outer: for await (const batch of log.read(partition, from)) {
    for (const record of batch as LogRecord[]) {
      scanned++;
      if (record.value.docId !== docId) continue;
      if (isCommentEvent(record.value)) {
        events.push({ offset: record.offset, event: record.value });
        continue;
      }
      ops.push(record.value);
      if (record.value.version >= stopAfterVersion) break outer;
    }
  }
  return { ops, events, scanned };
}

/** The whole-partition load (no read side, or it did not add up), reported as a 'log' load. */
export async function loadWholeLog(
  log: OpLog,
  docId: string,
  window: number,
  fallback: string,
  started: number,
  onEvent: ((event: SourceEvent) => void) | undefined,
): Promise<DocumentState> {
  const state = await loadFromLog(log, docId, window);
  onEvent?.({
    kind: 'load',
    docId,
    source: 'log',
    fallback,
    version: state.version,
    snapshotVersion: undefined,
    readModelOps: 0,
    logFrom: 0n,
    logRecordsScanned: -1,
    logOps: state.version,
    ms: performance.now() - started,
  });
  return state;
}

export interface LogSourceOptions {
  log: OpLog;
  window: number;
  onEvent?: (event: SourceEvent) => void;
}

export function createLogSource(options: LogSourceOptions): DocumentSource {
  const { log, window } = options;
  return {
    async load(docId) {
      return loadWholeLog(log, docId, window, 'no read side configured', performance.now(), options.onEvent);
    },
    async loadAt(docId, version) {
      return loadFromLog(log, docId, window, version);
    },
    async opsBetween(docId, from, to) {
      const started = performance.now();
      const tail = await readDocumentTail(log, log.partitionFor(docId), docId, 0n, to);
      const ops = collectRange(from, to, [tail.ops]);
      options.onEvent?.({
        kind: 'catchup',
        docId,
        from,
        to,
        readModelOps: 0,
        logFrom: 0n,
        logRecordsScanned: tail.scanned,
        logOps: ops?.length ?? 0,
        complete: ops !== undefined,
        ms: performance.now() - started,
      });
      return ops;
    },
  };
}
