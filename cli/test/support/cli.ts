/**
 * Driving the real `collab` CLI as a child process, against a temporary data folder: one-shot commands, and a
 * server (`collab serve`) awaited through its {"ready":true,...} line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CollabClient } from '@collab/client';
import WebSocket from 'ws';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'cli/src/main.ts');

/** An environment without the caller's COLLAB_* / KAFKA_* / CASSANDRA_* / S3_* settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // COLLAB_EDGE_TRANSPORT passes: the whole suite runs on the ws server with COLLAB_EDGE_TRANSPORT=ws.
    if (k === 'COLLAB_EDGE_TRANSPORT' || !/^(COLLAB_|KAFKA_|CASSANDRA_|S3_|LOG_LEVEL$)/.test(k)) env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'silent', ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--conditions=@collab/source', '--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** runCli that insists on exit code 0 and returns stdout. */
export async function cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`collab ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'collab-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly wsUrl: string;
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  stop(signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

export async function startServer(dataDir: string, port = 0, env = cleanEnv()): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@collab/source', '--import', 'tsx', MAIN, 'serve', '--data-dir', dataDir, '--port', String(port)],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    output += d;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | NodeJS.Signals | null>((done) =>
    child.on('exit', (code, signal) => done(signal ?? code)),
  );
  const ready = await new Promise<{ url: string; port: number }>((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line) as { ready?: boolean; url: string; port: number };
      if (parsed.ready === true) resolveReady(parsed);
    });
    void exited.then((code) => reject(new Error(`collab serve exited (${String(code)}) before ready:\n${stderr}`)));
  });
  return {
    ...ready,
    wsUrl: `${ready.url.replace(/^http/, 'ws')}/v1/ws`,
    child,
    output: () => output,
    exited,
    stop: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * Start again on the same port after a crash or stop. The old process's connections leave TIME_WAIT sockets on
 * that port, and the uWebSockets.js listener cannot bind beside them (no SO_REUSEADDR) until they expire (60 s
 * on Linux): a start that fails with "Cannot listen" exits 1 and is tried again, up to `timeoutMs`.
 */
export async function restartServer(dataDir: string, port: number, timeoutMs = 90_000): Promise<ServerProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await startServer(dataDir, port);
    } catch (err) {
      if (!/Cannot listen/.test(String(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function devToken(url: string, user: string): Promise<string> {
  const response = await fetch(`${url}/v1/dev/token`, { method: 'POST', body: JSON.stringify({ user }) });
  if (!response.ok) throw new Error(`dev token: HTTP ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

export function sdkClient(wsUrl: string, token: string | (() => Promise<string>)): CollabClient {
  return new CollabClient({
    url: wsUrl,
    token,
    WebSocket: WebSocket as never,
    reconnect: { initialMs: 50, maxMs: 500, factor: 2, jitter: 1 },
  });
}

/** Bounded polling for a condition no event announces (a projection catching up, a reconnect settling). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
