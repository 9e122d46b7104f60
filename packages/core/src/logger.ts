/**
 * The logger every package writes to: the slice of pino's API the project uses (`logger.warn({ ...fields },
 * 'message')`), so a pino logger, or a child of one, is passed as is — and the core, the adapters and the
 * service libraries depend on no logging library. Only the entry points create pino loggers.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const nothing = (): void => {};

/** The default where no logger is given: tests print nothing unless they ask. */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
