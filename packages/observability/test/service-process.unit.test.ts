/**
 * The process kit on a fake process: exit codes, the ready line, the shutdown order (drain first, then what was
 * opened, newest first), the deadline, and a failed start releasing what it had opened. The real processes:
 * command-service/test/process-lifecycle.int.test.ts.
 */
import assert from 'node:assert/strict';
import type { ProcessPort, ServiceProcessDefinition, StartedService } from '../src/service-process.js';
import { EXIT_CODES, runServiceProcess } from '../src/service-process.js';

/** A process whose timers fire only when the test says so, and whose exit is a promise. */
class FakeProcess implements ProcessPort {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly handlers = new Map<string, () => void>();
  readonly timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  private resolveExit!: (code: number) => void;
  readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  exitCode: number | undefined;

  onSignal(signal: string, handler: () => void): void {
    this.handlers.set(signal, handler);
  }
  stdout(line: string): void {
    this.out.push(line);
  }
  stderr(line: string): void {
    this.err.push(line);
  }
  exit(code: number): void {
    if (this.exitCode !== undefined) return; // the real process.exit never returns
    this.exitCode = code;
    this.resolveExit(code);
  }
  schedule(ms: number, fn: () => void): () => void {
    const timer = { ms, fn, cancelled: false };
    this.timers.push(timer);
    return () => (timer.cancelled = true);
  }
  signal(name: 'SIGTERM' | 'SIGINT'): void {
    this.handlers.get(name)?.();
  }
  /** Fire the pending timers of `ms`. */
  elapse(ms: number): void {
    for (const t of this.timers.filter((x) => x.ms === ms && !x.cancelled)) {
      t.cancelled = true;
      t.fn();
    }
  }
}

class BadConfig extends Error {}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function definition(
  start: ServiceProcessDefinition<{ ok: true }>['start'],
  overrides: Partial<ServiceProcessDefinition<{ ok: true }>> = {},
): ServiceProcessDefinition<{ ok: true }> {
  return {
    name: 'test-service',
    loadConfig: () => ({ ok: true }),
    isConfigError: (err) => err instanceof BadConfig,
    shutdown: () => ({ drainMs: 0, timeoutMs: 1000 }),
    start,
    ...overrides,
  };
}

describe('process kit (runServiceProcess)', () => {
  it('exits 2 with every problem on a configuration error, having started nothing', async () => {
    const io = new FakeProcess();
    let started = false;
    void runServiceProcess(
      definition(
        async () => {
          started = true;
          return {};
        },
        {
          loadConfig: () => {
            assert.ok(io.handlers.has('SIGTERM'), 'signal handlers come first');
            throw new BadConfig('Invalid configuration:\n  - A: bad\n  - B: bad');
          },
        },
      ),
      io,
    );
    assert.equal(await io.exited, EXIT_CODES.config);
    assert.equal(started, false);
    assert.deepEqual(io.err, ['Invalid configuration:\n  - A: bad\n  - B: bad']);
    assert.deepEqual(io.out, []);
  });

  it('prints the ready line once started; on SIGTERM drains first, then closes newest first, and exits 0', async () => {
    const io = new FakeProcess();
    const events: string[] = [];
    void runServiceProcess(
      definition(async (_config, scope) => {
        scope.defer('telemetry', () => events.push('close telemetry'));
        scope.defer('kafka', async () => events.push('close kafka'));
        scope.defer('server', async () => events.push('close server'));
        return { ready: { port: 1234 }, drain: () => events.push('drain') };
      }),
      io,
    );
    await settle();
    assert.deepEqual(io.out, ['{"ready":true,"port":1234}']);
    io.signal('SIGTERM');
    io.signal('SIGINT'); // a second signal changes nothing
    assert.equal(await io.exited, EXIT_CODES.ok);
    assert.deepEqual(events, ['drain', 'close server', 'close kafka', 'close telemetry']);
  });

  it('keeps serving for drainMs after the drain before closing anything', async () => {
    const io = new FakeProcess();
    const events: string[] = [];
    void runServiceProcess(
      definition(
        async (_config, scope) => {
          scope.defer('server', () => events.push('close server'));
          return { drain: () => events.push('drain') };
        },
        { shutdown: () => ({ drainMs: 300, timeoutMs: 1000 }) },
      ),
      io,
    );
    await settle();
    io.signal('SIGTERM');
    await settle();
    assert.deepEqual(events, ['drain'], 'readiness is 503 while the sockets still serve');
    io.elapse(300);
    assert.equal(await io.exited, EXIT_CODES.ok);
    assert.deepEqual(events, ['drain', 'close server']);
  });

  it('exits 1 at the deadline when a close never finishes, naming the step that hung', async () => {
    const io = new FakeProcess();
    void runServiceProcess(
      definition(async (_config, scope) => {
        scope.defer('telemetry', () => undefined);
        scope.defer('kafka consumer', () => new Promise(() => {})); // its broker is gone
        return {};
      }),
      io,
    );
    await settle();
    io.signal('SIGTERM');
    await settle();
    assert.equal(io.exitCode, undefined, 'still closing');
    io.elapse(1000);
    assert.equal(await io.exited, EXIT_CODES.failed);
    const line = JSON.parse(io.err.at(-1)!) as { msg: string; step: string; timeoutMs: number };
    assert.equal(line.step, 'kafka consumer');
    assert.equal(line.timeoutMs, 1000);
    assert.match(line.msg, /shutdown deadline passed/);
  });

  it('exits 1 when a close fails, after closing the others', async () => {
    const io = new FakeProcess();
    const closed: string[] = [];
    void runServiceProcess(
      definition(async (_config, scope) => {
        scope.defer('a', () => closed.push('a'));
        scope.defer('b', () => Promise.reject(new Error('b broke')));
        scope.defer('c', () => closed.push('c'));
        return {};
      }),
      io,
    );
    await settle();
    io.signal('SIGINT');
    assert.equal(await io.exited, EXIT_CODES.failed);
    assert.deepEqual(closed, ['c', 'a']);
  });

  it('after a failed start says why, releases what the start had opened, and exits 1', async () => {
    const io = new FakeProcess();
    const closed: string[] = [];
    void runServiceProcess(
      definition(async (_config, scope) => {
        scope.defer('metrics port', () => closed.push('metrics port'));
        scope.defer('kafka', () => closed.push('kafka'));
        throw Object.assign(new Error('open ops topic collab.ops: it has 6 partitions'), {
          code: 'ERR_INVALID_ARGUMENT',
        });
      }),
      io,
    );
    assert.equal(await io.exited, EXIT_CODES.failed);
    assert.deepEqual(closed, ['kafka', 'metrics port']);
    assert.equal(
      io.err[0],
      'test-service: failed to start: ERR_INVALID_ARGUMENT: open ops topic collab.ops: it has 6 partitions',
    );
    assert.deepEqual(io.out, [], 'never ready');
  });

  it('a configuration problem found while starting exits 2', async () => {
    const io = new FakeProcess();
    void runServiceProcess(
      definition(async () => {
        throw new BadConfig('Invalid configuration:\n  - COLLAB_PROJECTION_GROUP: another group');
      }),
      io,
    );
    assert.equal(await io.exited, EXIT_CODES.config);
  });

  it('a signal while starting: no ready line; stops as soon as the start is done', async () => {
    const io = new FakeProcess();
    let finishStart!: (s: StartedService) => void;
    const closed: string[] = [];
    void runServiceProcess(
      definition(async (_config, scope) => {
        scope.defer('server', () => closed.push('server'));
        return new Promise<StartedService>((resolve) => (finishStart = resolve));
      }),
      io,
    );
    await settle();
    io.signal('SIGTERM');
    finishStart({ ready: { port: 1 } });
    assert.equal(await io.exited, EXIT_CODES.ok);
    assert.deepEqual(io.out, []);
    assert.deepEqual(closed, ['server']);
  });
});
