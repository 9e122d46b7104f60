/**
 * The logger this adapter writes to: the subset of pino's API we use (`logger.warn({ ...fields }, 'message')`), so
 * a pino logger can be passed as is and tests stay silent with the no-op default. Core defines no logger, and this
 * package must not depend on pino.
 */
import { logLevel, type logCreator } from 'kafkajs';

type LogFn = (fields: object, message?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** Routes kafkajs's own log lines into our logger, with kafkajs's namespace as a field. */
export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const entry = { kafkajs: namespace, ...fields };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
