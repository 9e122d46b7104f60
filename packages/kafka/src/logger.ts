/** kafkajs's own log lines, into the project's logger (`@collab/core`'s `Logger`). */
import type { Logger } from '@collab/core';
import { logLevel, type logCreator } from 'kafkajs';

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
