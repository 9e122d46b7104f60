/**
 * kafkajs errors → CollabError. kafkajs wraps errors (KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError)
 * so we look through the whole `cause` / `originalError` chain for the one that says what really happened.
 */
import { CollabError } from '@collab/core';

interface KafkaJsLikeError {
  name?: string;
  type?: string;
  message?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
}

/**
 * The ways a broker tells a producer that a newer producer with its transactional id exists. PRODUCER_FENCED
 * (code 90) is newer than kafkajs 2.2.4, which reports it as "Unknown error code 90".
 */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const FENCED_UNKNOWN_CODE = /Unknown error code 90\b/;

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
]);
const TIMEOUT_NAMES = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout', 'KafkaJSLockTimeout']);

/**
 * Authentication failed, in either direction: the broker refused our SASL credentials or our client certificate,
 * or its certificate failed our verification (Node's TLS error codes, which kafkajs keeps as `code`). Retrying the
 * same configuration cannot help, so these are not reported as an outage.
 */
const SASL_NAMES = new Set(['KafkaJSSASLAuthenticationError']);
const TLS_REFUSAL = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|ERR_SSL_/;
const isAuthFailure = (e: KafkaJsLikeError & { code?: unknown }): boolean =>
  SASL_NAMES.has(e.name ?? '') || (typeof e.code === 'string' && TLS_REFUSAL.test(e.code));

function chain(err: unknown): KafkaJsLikeError[] {
  const out: KafkaJsLikeError[] = [];
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && out.length < 10) {
    const e = current as KafkaJsLikeError;
    out.push(e);
    current = e.cause ?? e.originalError;
  }
  return out;
}

export const isFencedError = (err: unknown): boolean =>
  chain(err).some((e) => FENCED_TYPES.has(e.type ?? '') || FENCED_UNKNOWN_CODE.test(e.message ?? ''));

/** The leader refused a batch's sequence number (nothing of the batch was appended). */
export const isOutOfSequence = (err: unknown): boolean =>
  chain(err).some((e) => e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER');

/** `what` says what we were doing, e.g. "append to ops partition 3". */
export function toCollabError(err: unknown, what: string, endpoint: string): CollabError {
  if (err instanceof CollabError) return err;
  const errors = chain(err);
  const detail = errors.map((e) => `${e.name ?? 'Error'}: ${e.message ?? ''}`).join(' <- ');
  if (isFencedError(err)) {
    return new CollabError('ERR_FENCED', `${what}: a newer writer owns this partition (${detail})`, {
      cause: err,
      endpoint,
      retriable: false,
    });
  }
  if (errors.some(isAuthFailure)) {
    return new CollabError('ERR_UNAUTHENTICATED', `${what}: authentication with ${endpoint} failed (${detail})`, {
      cause: err,
      endpoint,
      retriable: false,
    });
  }
  if (errors.some((e) => UNAVAILABLE_NAMES.has(e.name ?? ''))) {
    return new CollabError('ERR_UNAVAILABLE', `${what}: cannot reach ${endpoint} (${detail})`, {
      cause: err,
      endpoint,
    });
  }
  if (errors.some((e) => TIMEOUT_NAMES.has(e.name ?? ''))) {
    return new CollabError('ERR_TIMEOUT', `${what}: ${endpoint} did not answer in time (${detail})`, {
      cause: err,
      endpoint,
    });
  }
  if (errors.some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION')) {
    return new CollabError('ERR_NOT_FOUND', `${what}: the topic does not exist on ${endpoint} (${detail})`, {
      cause: err,
      endpoint,
    });
  }
  const retriable = errors.some((e) => e.retriable === true);
  return new CollabError('ERR_UNAVAILABLE', `${what}: ${endpoint} failed (${detail})`, {
    cause: err,
    endpoint,
    retriable,
  });
}

/**
 * Bounds `work` by `ms`: rejects with ERR_TIMEOUT (retriable) when it takes longer. The work itself is not
 * cancelled (kafkajs has no cancellation); callers that cannot leave it running close what it uses.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, endpoint: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CollabError('ERR_TIMEOUT', `${what}: no answer from ${endpoint} within ${ms} ms`, { endpoint })),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
