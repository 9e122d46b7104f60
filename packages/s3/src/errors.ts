/**
 * Turning what @aws-sdk/client-s3 throws into CollabError. Callers handle the expected outcomes (404, 412) before
 * getting here; everything that reaches this is an infrastructure failure and names the endpoint and bucket.
 */
import { CollabError } from '@collab/core';

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const asSdkError = (err: unknown): SdkErrorLike => (typeof err === 'object' && err !== null ? err : {});

export const httpStatusOf = (err: unknown): number | undefined => asSdkError(err).$metadata?.httpStatusCode;

export const isNotFound = (err: unknown): boolean => {
  const e = asSdkError(err);
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || httpStatusOf(err) === 404;
};

/** 412: an If-None-Match: * write found the key taken. */
export const isPreconditionFailed = (err: unknown): boolean =>
  asSdkError(err).name === 'PreconditionFailed' || httpStatusOf(err) === 412;

/** 409 ConditionalRequestConflict: AWS's answer when another conditional write to the key is in flight. */
export const isConditionalConflict = (err: unknown): boolean =>
  asSdkError(err).name === 'ConditionalRequestConflict' || httpStatusOf(err) === 409;

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout']);

export function toCollabError(err: unknown, operation: string, endpoint: string): CollabError {
  if (err instanceof CollabError) return err;
  const e = asSdkError(err);
  const where = `s3 ${endpoint}`;
  const what = `${operation} failed against ${where}`;
  if (TIMEOUT_CODES.has(e.name ?? '') || TIMEOUT_CODES.has(e.code ?? '')) {
    return new CollabError('ERR_TIMEOUT', `${what}: timed out (${e.message ?? e.name})`, {
      cause: err,
      endpoint: where,
    });
  }
  const status = httpStatusOf(err);
  // 401/403: wrong credentials or policy. Retrying cannot help until an operator fixes the configuration.
  if (status === 401 || status === 403) {
    return new CollabError('ERR_UNAVAILABLE', `${what}: access denied (${e.name})`, {
      cause: err,
      endpoint: where,
      retriable: false,
    });
  }
  const detail = e.code ?? e.name ?? 'error';
  return new CollabError('ERR_UNAVAILABLE', `${what}: ${detail}${status === undefined ? '' : ` (HTTP ${status})`}`, {
    cause: err,
    endpoint: where,
  });
}
