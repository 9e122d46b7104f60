/** ioredis failures as CollabError, naming the server (with any password in the URL masked). */
import { CollabError } from '@collab/core';

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable redis url>';
  }
}

/**
 * The server refused our ACL user or password (or wants one), or a TLS certificate was refused either way. The
 * configuration must change: retrying cannot help.
 */
function isAuthFailure(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown };
  return (
    (typeof e.message === 'string' && /^(WRONGPASS|NOAUTH)\b/.test(e.message)) ||
    (typeof e.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|ERR_SSL_/.test(e.code))
  );
}

/**
 * `connectionError`: the last error the connection reported. A command that waited through reconnects fails with
 * only "max retries per request"; when the connection kept failing to authenticate, that is the error to report.
 */
export function toCollabError(
  err: unknown,
  operation: string,
  endpoint: string,
  connectionError?: unknown,
): CollabError {
  if (err instanceof CollabError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; message?: string };
  const where = `redis ${endpoint}`;
  const message = `${operation} failed against ${where}: ${e.message ?? String(err)}`;
  const refusal = isAuthFailure(err) ? err : isAuthFailure(connectionError) ? connectionError : undefined;
  if (refusal !== undefined) {
    const reason = refusal === err ? '' : ` (the connection: ${(refusal as Error).message})`;
    return new CollabError('ERR_UNAUTHENTICATED', `${message}${reason}`, {
      cause: refusal,
      endpoint: where,
      retriable: false,
    });
  }
  if (/timed out/i.test(e.message ?? '')) {
    return new CollabError('ERR_TIMEOUT', message, { cause: err, endpoint: where });
  }
  // A ReplyError is the server refusing the command (OOM, READONLY replica, NOPERM, WRONGTYPE): retrying the same
  // command against the same server does not help until someone acts.
  const retriable = e.name !== 'ReplyError';
  return new CollabError('ERR_UNAVAILABLE', message, { cause: err, endpoint: where, retriable });
}
