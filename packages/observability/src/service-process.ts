/**
 * How every service process starts and stops — the command, projection and snapshot services' main.ts and
 * `collab serve` — so that an operator sees one behaviour:
 *
 *  - Exit codes: 0 stopped cleanly after SIGTERM/SIGINT; 1 failed (the start failed, a close failed, or the
 *    shutdown deadline passed); 2 the configuration is invalid (every problem printed, nothing started).
 *  - Signal handlers are installed before anything starts, so a signal at any moment stops the process the same
 *    way (installed after the ready line, a SIGTERM sent on seeing it killed the process uncleanly).
 *  - One line `{"ready":true,...}` on stdout once the service accepts work, for supervisors and tests.
 *  - What a service opens it registers with `scope.defer(name, close)`; the scope is closed in reverse order
 *    on a signal and also after a failed start, so a failed start releases what it had opened (ports, groups).
 *  - Stopping: readiness turns to 503 first (`drain`), the process keeps serving for `drainMs` so load
 *    balancers stop sending it anything, then closes in order. A deadline (`timeoutMs` from the signal) bounds
 *    the whole stop whatever the backends do: past it the process logs which step hung and exits 1.
 *
 * Repeated signals are ignored (npm and terminals deliver Ctrl-C twice); the shutdown is idempotent.
 */

export const EXIT_CODES = { ok: 0, failed: 1, config: 2 } as const;

export interface ShutdownSettings {
  /** After readiness turns to 503, how long to keep serving before closing (0: close at once). */
  drainMs: number;
  /** From the signal to the exit, whatever the backends do; past it the process exits 1. */
  timeoutMs: number;
}

/** COLLAB_SHUTDOWN_DRAIN_MS and COLLAB_SHUTDOWN_TIMEOUT_MS when not given (@collab/env-config). */
export const DEFAULT_SHUTDOWN: ShutdownSettings = { drainMs: 0, timeoutMs: 25_000 };

/** The part of a pino logger the kit writes to. */
export interface ProcessLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ServiceScope {
  /** How to release what was just opened. Closed in reverse order of registration, each at most once. */
  defer(name: string, close: () => unknown): void;
}

export interface StartedService {
  /** Fields of the ready line after `"ready":true` (a port, a URL). */
  ready?: Record<string, unknown>;
  /** Called first when stopping: readiness answers 503 from now on. */
  drain?(): void;
  /** The service's own logger, for the kit's lines once started (before: JSON lines on stderr). */
  logger?: ProcessLogger;
}

export interface ServiceProcessDefinition<C> {
  /** For log lines: `command-service`, `collab serve`, ... */
  name: string;
  /** Read and validate the configuration; a throw that `isConfigError` accepts exits 2 with its message. */
  loadConfig(): C;
  isConfigError(err: unknown): boolean;
  shutdown(config: C): ShutdownSettings;
  start(config: C, scope: ServiceScope): Promise<StartedService>;
}

/** The process, injected so the kit is unit-tested without exiting or waiting. */
export interface ProcessPort {
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
  stdout(line: string): void;
  stderr(line: string): void;
  exit(code: number): void;
  /** Run `fn` after `ms`; the returned function cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

export const nodeProcess: ProcessPort = {
  onSignal: (signal, handler) => void process.on(signal, handler),
  stdout: (line) => void process.stdout.write(`${line}\n`),
  stderr: (line) => void process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
  schedule: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** pino's numbers, so log pipelines read the kit's lines like the services' own. */
const LEVEL = { info: 30, error: 50 } as const;

function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { err: String(err) };
  const code = (err as { code?: unknown }).code;
  return { err: { type: err.name, message: err.message, ...(code === undefined ? {} : { code }), stack: err.stack } };
}

/** What an operator reads first: the code when there is one, and the message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_') ? `${code}: ${err.message}` : err.message;
}

/**
 * Run a service as this process until a signal stops it. Never resolves: the process exits with one of
 * EXIT_CODES.
 */
export function runServiceProcess<C>(
  definition: ServiceProcessDefinition<C>,
  io: ProcessPort = nodeProcess,
): Promise<never> {
  const { name } = definition;
  let logger: ProcessLogger = {
    info: (fields, msg) => io.stderr(JSON.stringify({ level: LEVEL.info, time: Date.now(), name, ...fields, msg })),
    error: (fields, msg) => io.stderr(JSON.stringify({ level: LEVEL.error, time: Date.now(), name, ...fields, msg })),
  };
  const deferred: { name: string; close: () => unknown }[] = [];
  const scope: ServiceScope = { defer: (step, close) => void deferred.push({ name: step, close }) };
  let step = 'starting';
  let closing: Promise<boolean> | undefined;
  /** Close every deferred step, newest first; true when all closed without an error. Idempotent. */
  const closeScope = (): Promise<boolean> =>
    (closing ??= (async () => {
      let clean = true;
      for (const entry of deferred.reverse()) {
        step = entry.name;
        try {
          await entry.close();
        } catch (err) {
          clean = false;
          logger.error({ step: entry.name, ...errorFields(err) }, 'close failed');
        }
      }
      step = 'exiting';
      return clean;
    })());

  let shutdown = DEFAULT_SHUTDOWN;
  let stopRequested: NodeJS.Signals | undefined;
  let started: Promise<StartedService> | undefined;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopRequested !== undefined) return;
    stopRequested = signal;
    io.schedule(shutdown.timeoutMs, () => {
      logger.error(
        { signal, timeoutMs: shutdown.timeoutMs, step },
        `shutdown deadline passed (COLLAB_SHUTDOWN_TIMEOUT_MS) while in step "${step}"; exiting`,
      );
      io.exit(EXIT_CODES.failed);
    });
    logger.info({ signal, ...shutdown }, 'shutting down');
    let service: StartedService;
    try {
      service = await (started ?? Promise.reject(new Error('not started')));
    } catch {
      return; // the failed start exits by itself
    }
    service.drain?.();
    if (shutdown.drainMs > 0) {
      step = 'draining';
      await new Promise<void>((resolve) => io.schedule(shutdown.drainMs, resolve));
    }
    const clean = await closeScope();
    logger.info({ signal }, clean ? 'stopped' : 'stopped, but not cleanly');
    io.exit(clean ? EXIT_CODES.ok : EXIT_CODES.failed);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) io.onSignal(signal, () => void stop(signal));

  const failed = async (err: unknown): Promise<void> => {
    const config = definition.isConfigError(err);
    if (config) {
      io.stderr(err instanceof Error ? err.message : String(err));
    } else {
      io.stderr(`${name}: failed to start: ${describe(err)}`);
      logger.error(errorFields(err), 'failed to start');
    }
    // Release what the start had opened (its ports, its consumer groups), bounded like a stop.
    io.schedule(shutdown.timeoutMs, () => io.exit(EXIT_CODES.failed));
    await closeScope();
    io.exit(config ? EXIT_CODES.config : EXIT_CODES.failed);
  };
  try {
    const config = definition.loadConfig();
    shutdown = definition.shutdown(config);
    started = definition.start(config, scope);
  } catch (err) {
    started = Promise.reject(err);
  }
  started.then((service) => {
    if (service.logger !== undefined) logger = service.logger;
    if (stopRequested === undefined) io.stdout(JSON.stringify({ ready: true, ...service.ready }));
  }, failed);
  return new Promise<never>(() => {});
}
