/**
 * The logger the adapters write to: the subset of pino's API they use, so a pino logger (or a child of one) can be
 * passed as is. Silent by default, so tests print nothing unless they ask.
 */
export interface AdapterLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLogger: AdapterLogger = { debug: noop, warn: noop, error: noop };
