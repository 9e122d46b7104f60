/**
 * A DocumentReader that runs at most `concurrent` reads at once and queues at most `queued` more; beyond that a
 * read fails at once with a retriable ERR_UNAVAILABLE (the read API answers 503 with Retry-After).
 *
 * Why: a replay yields to the event loop between pages (document-reader.ts), but every replay in progress takes
 * its page in each turn of the loop — with many at once, a turn would be as long as all their pages together.
 * Capping them keeps a turn short however many readers there are, and the queue bound keeps waiting requests
 * (and their sockets) from piling up.
 */
import { CollabError } from '@collab/core';
import type { DocumentReader } from './document-reader.js';

export interface ReadConcurrency {
  /** Reads running at once. */
  concurrent: number;
  /** Reads waiting for a turn; one more is refused. */
  queued: number;
}

/** The refusal when the queue is full: load shedding, not a failure of ours (the handler does not log it). */
export class ReadsBusy extends CollabError {
  constructor(running: number, waiting: number) {
    super('ERR_UNAVAILABLE', `too many reads in progress (${running} running, ${waiting} waiting); retry shortly`, {
      retryAfterMs: 1000,
    });
  }
}

/** Runs reads under the limits: share one between several readers to give them one budget. */
export type Limiter = <T>(read: () => Promise<T>) => Promise<T>;

export function limitConcurrency(reader: DocumentReader, limits: ReadConcurrency | Limiter): DocumentReader {
  const run = typeof limits === 'function' ? limits : concurrencyLimiter(limits);
  return {
    current: (docId) => run(() => reader.current(docId)),
    atVersion: (docId, version) => run(() => reader.atVersion(docId, version)),
    atTime: (docId, time) => run(() => reader.atTime(docId, time)),
    history: (docId, options) => run(() => reader.history(docId, options)),
    stateAt: (docId, version) => run(() => reader.stateAt(docId, version)),
  };
}

export function concurrencyLimiter(limits: ReadConcurrency): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];

  const run = async <T>(read: () => Promise<T>): Promise<T> => {
    if (running >= limits.concurrent) {
      if (waiting.length >= limits.queued) {
        throw new ReadsBusy(running, waiting.length);
      }
      // The slot is handed over by the read that finishes (running stays the same).
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running++;
    }
    try {
      return await read();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running--;
      else next();
    }
  };
  return run;
}
