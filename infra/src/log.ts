/**
 * The harness's structured logger: one JSON object per line on stderr, silent unless asked.
 *
 * Why not pino: it is not installed in this workspace and the harness must not add dependencies. The shape
 * (`info(fields, message)`) is pino's: the project's one `Logger` (`@collab/core`), which a pino logger also fits.
 * Level from COLLAB_INFRA_LOG (silent | error | warn | info | debug); default `silent` under mocha and `info`
 * for the CLIs (they pass their own default).
 */
import type { Logger } from '@collab/core';

export type { Logger };
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in RANK ? (value as LogLevel) : undefined;
}

export function createLogger(defaultLevel: LogLevel = 'silent', env: NodeJS.ProcessEnv = process.env): Logger {
  const level = parseLevel(env.COLLAB_INFRA_LOG) ?? defaultLevel;
  const write =
    (at: Exclude<LogLevel, 'silent'>) =>
    (fields: object, message?: string): void => {
      if (RANK[at] > RANK[level]) return;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: at, name: 'infra', msg: message, ...fields })}\n`,
      );
    };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}
