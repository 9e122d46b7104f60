/** The slice of a pino logger the adapter uses; pass a pino child logger. Silent when absent. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug: () => {}, warn: () => {} };
