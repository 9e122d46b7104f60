/**
 * Driver errors become CollabErrors with a stable code, the retriable flag and the endpoint, so callers (the
 * projection consumer's retry loop, the read API) decide on the code and operators see which node failed.
 * Errors that are not about reachability or time (syntax, invalid request, auth) are programming or
 * configuration errors: they are passed through unchanged and must not be retried.
 */
import cassandra from 'cassandra-driver';
import type { Client } from 'cassandra-driver';

import { CollabError } from '@collab/core';

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

/** Server-side answers that mean "not enough replicas answered in time / were alive": retrying can help. */
const UNAVAILABLE_CODES: ReadonlySet<number> = new Set([
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
]);
const TIMEOUT_CODES: ReadonlySet<number> = new Set([codes.writeTimeout, codes.readTimeout]);

/**
 * The node refused our credentials, or one side refused the other's certificate (Node's TLS error codes).
 * Retrying the same configuration cannot help.
 */
const TLS_REFUSAL = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|ERR_SSL_/;
const isAuthFailure = (e: unknown): boolean =>
  e instanceof errors.AuthenticationError ||
  (typeof (e as { code?: unknown } | undefined)?.code === 'string' && TLS_REFUSAL.test((e as { code: string }).code));

export function toCollabError(err: unknown, what: string, endpoint: string): unknown {
  if (err instanceof CollabError) return err;
  if (err instanceof errors.NoHostAvailableError && Object.values(err.innerErrors ?? {}).some(isAuthFailure)) {
    const where = `cassandra ${Object.keys(err.innerErrors ?? {}).join(',') || endpoint}`;
    const reasons = Object.values(err.innerErrors ?? {}).map((e) => (e as Error).message);
    return new CollabError(
      'ERR_UNAUTHENTICATED',
      `${what}: authentication with ${where} failed: ${reasons.join('; ')}`,
      {
        cause: err,
        endpoint: where,
        retriable: false,
      },
    );
  }
  if (err instanceof errors.NoHostAvailableError) {
    // innerErrors is keyed by "address:port" of every host tried; name them all.
    const tried = Object.keys(err.innerErrors ?? {});
    const where = `cassandra ${tried.length > 0 ? tried.join(',') : endpoint}`;
    // Every host tried timed out on this request: the nodes are up but slow, which is a timeout to the caller.
    const inner = Object.values(err.innerErrors ?? {});
    const allTimedOut = inner.length > 0 && inner.every((e) => e instanceof errors.OperationTimedOutError);
    return new CollabError(
      allTimedOut ? 'ERR_TIMEOUT' : 'ERR_UNAVAILABLE',
      `${what}: no Cassandra host available (${where}): ${err.message}`,
      {
        cause: err,
        endpoint: where,
      },
    );
  }
  if (err instanceof errors.OperationTimedOutError) {
    const where = `cassandra ${err.host ?? endpoint}`;
    return new CollabError('ERR_TIMEOUT', `${what}: Cassandra did not answer in time (${where})`, {
      cause: err,
      endpoint: where,
    });
  }
  if (err instanceof errors.ResponseError) {
    const where = `cassandra ${endpoint}`;
    if (TIMEOUT_CODES.has(err.code)) {
      return new CollabError('ERR_TIMEOUT', `${what}: replicas timed out (${where}): ${err.message}`, {
        cause: err,
        endpoint: where,
      });
    }
    if (UNAVAILABLE_CODES.has(err.code)) {
      return new CollabError('ERR_UNAVAILABLE', `${what}: not enough replicas (${where}): ${err.message}`, {
        cause: err,
        endpoint: where,
      });
    }
  }
  return err;
}

/** The contact points a client was configured with, for error messages ("which Cassandra?"). */
export const clientContactPoints = (client: Client): string[] =>
  (client as unknown as { options?: { contactPoints?: string[] } }).options?.contactPoints ?? ['unknown'];
