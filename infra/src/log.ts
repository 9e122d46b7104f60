/**
 * The harness's structured logger: one JSON object per line on stderr, silent unless asked.
 *
 * Why not pino: it is not installed in this workspace and the harness must not add dependencies. The shape
 * (`info(fields, message)`) matches pino's, so an injected pino logger fits where a `Logger` is expected.
 * Level from COLLAB_INFRA_LOG (silent | error | warn | info | debug); default `silent` under mocha and `info`
 * for the CLIs (they pass their own default).
 */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
type Fields = Record<string, unknown>;

export interface Logger {
  error(fields: Fields, message: string): void;
  warn(fields: Fields, message: string): void;
  info(fields: Fields, message: string): void;
  debug(fields: Fields, message: string): void;
}

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in RANK ? (value as LogLevel) : undefined;
}

export function createLogger(defaultLevel: LogLevel = 'silent', env: NodeJS.ProcessEnv = process.env): Logger {
  const level = parseLevel(env.COLLAB_INFRA_LOG) ?? defaultLevel;
  const write =
    (at: Exclude<LogLevel, 'silent'>) =>
    (fields: Fields, message: string): void => {
      if (RANK[at] > RANK[level]) return;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: at, name: 'infra', msg: message, ...fields })}\n`,
      );
    };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}
