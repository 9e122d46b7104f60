/**
 * How the CLI ends: exit codes shared by every command, and the errors that choose them.
 *
 * 0 done · 1 failed (I/O, a server down, corrupt data) · 2 usage or configuration problem · 3 done, but a check
 * found a difference (replay --compare-with).
 */
import { ConfigProblems } from './embedded-config.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, differs: 3 } as const;

/** A flag value that does not parse; exits 2 like a configuration problem. */
export class UsageError extends Error {}

export function exitCodeFor(err: unknown): number {
  return err instanceof ConfigProblems || err instanceof UsageError ? EXIT.usage : EXIT.failed;
}

export function describeError(err: unknown): string {
  if (err instanceof ConfigProblems || err instanceof UsageError) return err.message;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' && e.code.startsWith('ERR_') ? `${e.code}: ` : '';
  return `collab: ${code}${typeof e.message === 'string' ? e.message : String(err)}`;
}
