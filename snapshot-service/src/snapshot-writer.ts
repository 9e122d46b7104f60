/**
 * Writing one snapshot with bounded retries: exponential backoff with full jitter (p-retry), only for errors that
 * say retrying can help (CollabError.retriable; ERR_UNAVAILABLE / ERR_TIMEOUT from the S3 adapter). Each attempt
 * takes the document's state *at that moment*, so after an outage the newest version is written, not a stale
 * one. Retention runs after a created snapshot, best effort: a failure there costs storage, never content.
 */
import { applyRetention, isCollabError, type RetentionPolicy, type SnapshotStore } from '@collab/core';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '@collab/core';

export interface RetrySettings {
  /** Attempts after the first, per write job; then the job gives up and the document is retried later. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { retries: 8, minDelayMs: 200, maxDelayMs: 15_000 };

export interface SnapshotCandidate {
  docId: string;
  version: number;
  text: string;
}

export type WriteOutcome = 'created' | 'exists';

export interface SnapshotWriterOptions {
  snapshots: SnapshotStore;
  retry: RetrySettings;
  retention: RetentionPolicy | undefined;
  logger: Logger;
  now: () => number;
  /** Aborts retries (shutdown, partition revoked). */
  signal?: AbortSignal;
  onAttemptFailed?: (err: unknown, docId: string, attempt: number) => void;
}

export async function writeSnapshot(
  options: SnapshotWriterOptions,
  take: () => SnapshotCandidate | undefined,
): Promise<{ outcome: WriteOutcome; version: number; createdAt: number } | undefined> {
  const { snapshots, retry, logger } = options;
  let docId = '';
  return pRetry(
    async () => {
      const candidate = take();
      if (candidate === undefined) return undefined; // nothing new to write any more
      docId = candidate.docId;
      const createdAt = options.now();
      try {
        const outcome = await snapshots.put({ ...candidate, createdAt });
        return { outcome, version: candidate.version, createdAt };
      } catch (err) {
        if (isCollabError(err) && err.retriable) throw err;
        // Invalid input, access denied, corrupt: retrying the same call cannot help.
        throw new AbortError(err instanceof Error ? err : new Error(String(err)));
      }
    },
    {
      retries: retry.retries,
      factor: 2,
      minTimeout: retry.minDelayMs,
      maxTimeout: retry.maxDelayMs,
      randomize: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onFailedAttempt: (err) => {
        options.onAttemptFailed?.(err, docId, err.attemptNumber);
        logger.warn({ err, docId, attempt: err.attemptNumber, left: err.retriesLeft }, 'snapshot write failed');
      },
    },
  );
}

export async function retain(options: SnapshotWriterOptions, docId: string): Promise<void> {
  if (options.retention === undefined) return;
  try {
    const plan = await applyRetention(options.snapshots, docId, options.retention, options.now());
    if (plan.drop.length > 0) options.logger.debug({ docId, dropped: plan.drop.length }, 'retention applied');
  } catch (err) {
    options.logger.warn({ err, docId }, 'retention failed; will run again after the next snapshot');
  }
}
