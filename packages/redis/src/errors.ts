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

export function toCollabError(err: unknown, operation: string, endpoint: string): CollabError {
  if (err instanceof CollabError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; message?: string };
  const where = `redis ${endpoint}`;
  const message = `${operation} failed against ${where}: ${e.message ?? String(err)}`;
  // The server refused our ACL user or password (or wants one), or a TLS certificate was refused either way: the
  // configuration must change, retrying cannot help.
  const code = (err as { code?: unknown } | undefined)?.code;
  if (
    /^(WRONGPASS|NOAUTH)\b/.test(e.message ?? '') ||
    (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|ERR_SSL_/.test(code))
  ) {
    return new CollabError('ERR_UNAUTHENTICATED', message, { cause: err, endpoint: where, retriable: false });
  }
  if (/timed out/i.test(e.message ?? '')) {
    return new CollabError('ERR_TIMEOUT', message, { cause: err, endpoint: where });
  }
  // A ReplyError is the server refusing the command (OOM, READONLY replica, NOAUTH, WRONGTYPE): retrying the same
  // command against the same server does not help until someone acts.
  const retriable = e.name !== 'ReplyError';
  return new CollabError('ERR_UNAVAILABLE', message, { cause: err, endpoint: where, retriable });
}
