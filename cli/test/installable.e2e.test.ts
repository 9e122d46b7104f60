/**
 * What users install, installed the way they would, after `npm run build`:
 *
 * - `npx collab`: the bin npm links from cli/package.json runs the compiled CLI, and the command the server's
 *   start-up message suggests (`npx collab token --user alice`) prints a token that server accepts.
 * - The SDK from tarballs: `npm pack` of @collab/client and the packages it depends on, installed offline (from
 *   npm's cache: zod and ws as the registry serves them) into a fresh folder outside the repository, and used
 *   there under plain node — no tsx, no source condition: an app imports @collab/client, connects to a real
 *   `collab serve` (started through the linked bin), edits, and a second client reads the text back; the shipped
 *   declarations type-check an app; the README's example of @collab/client/testing runs from the installed copy.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin/collab');
/** The SDK and every @collab package it depends on (what a registry would serve). */
const PACKED = ['@collab/client', '@collab/protocol', '@collab/ot-text', '@collab/core'];

/**
 * The caller's environment without NODE_OPTIONS and the COLLAB_ / LOG_LEVEL settings: as a user's shell.
 * COLLAB_EDGE_TRANSPORT passes, as in the other CLI suites (docs/testing.md: the suites on the ws server).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'COLLAB_EDGE_TRANSPORT' || !/^(COLLAB_|LOG_LEVEL$|NODE_OPTIONS$)/.test(k)) env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'silent' };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command to its end, bounded: killed (and reported) after `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<Run> {
  return new Promise((done, failed) => {
    const child = spawn(command, args, { cwd, env: userEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failed(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms:\n${stderr}${stdout}`));
    }, timeoutMs);
    child.on('error', failed);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

async function succeeds(command: string, args: string[], cwd: string): Promise<string> {
  const r = await run(command, args, cwd);
  assert.equal(r.code, 0, `${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The app: it connects, edits, and reads the text back through a second connection. */
const APP = `
import { CollabClient } from '@collab/client';
import WebSocket from 'ws';

const [url, token, docId] = process.argv.slice(2);
const connect = () => new CollabClient({ url, token, WebSocket });
const writer = connect();
const doc = await writer.openDocument(docId);
doc.insert(0, 'Hello from a packed SDK');
doc.insert(5, ',');
await new Promise((acked) => {
  if (doc.pendingCount === 0) acked();
  else doc.on('pending', ({ count }) => count === 0 && acked());
});
const reader = connect();
const copy = await reader.openDocument(docId);
console.log(JSON.stringify({ text: copy.text, version: copy.version, sdk: import.meta.resolve('@collab/client') }));
writer.close();
reader.close();
`;

/** The same app seen by the type checker: the shipped .d.ts files of both entries. */
const TYPED_APP = `
import { CollabClient, type ClientDocument, type ChangeEvent } from '@collab/client';
import { FakeNetwork, ManualScheduler, Rng, SimServer, type SimServerOptions } from '@collab/client/testing';

const scheduler = new ManualScheduler();
const rng = new Rng(1);
const options: Partial<SimServerOptions> = { hashEvery: 5 };
const server = new SimServer(rng, () => scheduler.now(), options);
const network = new FakeNetwork(scheduler, rng, server);
const client = new CollabClient({ url: 'ws://sim', token: 'good', WebSocket: network.WebSocket, scheduler });
export const opened: Promise<ClientDocument> = client.openDocument('d');
export const onChange = (e: ChangeEvent): string => e.source;
// @ts-expect-error: insert takes an offset and a string
export const wrong = (doc: ClientDocument) => doc.insert('0', 1);
`;

/** The README's example of @collab/client/testing, as a user copies it (the block after its heading). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'packages/client/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Testing your app without a server'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "packages/client/README.md: no js block in 'Testing your app without a server'");
  return block[1]!;
}

describe('installing what users install: npx collab, and the SDK from packed tarballs', function () {
  this.timeout(600_000);
  const work = mkdtempSync(join(tmpdir(), 'collab-installable-'));
  const dataDir = join(work, 'data');
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let wsUrl = '';
  let token = '';

  before(async () => {
    await succeeds('npm', ['run', 'build'], ROOT);
    // collab serve through the link itself, as a shell runs it (its shebang and mode).
    const child = spawn(BIN, ['serve', '--data-dir', dataDir, '--port', '0'], {
      cwd: work,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (serverOutput += d));
    const ready = await new Promise<{ url: string }>((resolveReady, failed) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        serverOutput += `${line}\n`;
        if (line.startsWith('{"ready":true')) resolveReady(JSON.parse(line) as { url: string });
      });
      child.once('exit', (code) => failed(new Error(`collab serve exited (${code}) before ready:\n${serverOutput}`)));
    });
    wsUrl = `${ready.url.replace(/^http/, 'ws')}/v1/ws`;
  });

  after(async () => {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((done) => server!.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('npx collab runs the compiled CLI through the bin npm linked', async () => {
    // npm links workspace bins into node_modules/.bin at install time.
    assert.ok(lstatSync(BIN).isSymbolicLink(), `${BIN} is not a link (run npm install)`);
    assert.equal(realpathSync(BIN), join(ROOT, 'cli/bin/collab.js'));
    const help = await succeeds('npx', ['--offline', 'collab', '--help'], ROOT);
    assert.match(help, /^Usage: collab \[options\] \[command\]/);
    assert.match(help, /serve \[options\]/);
  });

  it("collab serve's start-up message suggests npx collab token, and that prints a token", async () => {
    assert.match(serverOutput, /for other clients: npx collab token --user alice/);
    const args = ['--offline', 'collab', 'token', '--user', 'alice', '--data-dir', dataDir];
    token = (await succeeds('npx', args, ROOT)).trim();
    // That the server accepts it, the app below shows.
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  describe('the SDK, packed and installed in a fresh folder', () => {
    const packDir = join(work, 'tarballs');
    const appDir = join(work, 'app');

    before(async () => {
      mkdirSync(packDir);
      mkdirSync(appDir);
      const packed = JSON.parse(
        await succeeds(
          'npm',
          ['pack', '--json', '--pack-destination', packDir, ...PACKED.flatMap((p) => ['-w', p])],
          ROOT,
        ),
      ) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
      assert.deepEqual(packed.map((p) => p.name).sort(), [...PACKED].sort());
      for (const p of packed) {
        // Only what a consumer needs: the compiled sources, their declarations and maps (no tests, no src).
        const extra = p.files
          .map((f) => f.path)
          .filter((f) => !/^(dist\/src\/.+\.(js|d\.ts|js\.map)|package\.json|README\.md)$/.test(f));
        assert.deepEqual(extra, [], `${p.name} ships more than dist/src`);
      }
      const client = packed.find((p) => p.name === '@collab/client')!;
      for (const f of [
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/testing/index.js',
        'dist/src/testing/index.d.ts',
      ]) {
        assert.ok(
          client.files.some((x) => x.path === f),
          `@collab/client does not ship ${f}`,
        );
      }

      // zod (the protocol's dependency) and ws (the app's WebSocket in Node 20) as the registry serves them, from
      // npm's cache: the offline install reaches no network. Their tarball URLs are the cache's keys.
      const registry = (await succeeds('npm', ['config', 'get', 'registry'], ROOT)).trim().replace(/\/?$/, '/');
      const fromRegistry = (name: string) => `${registry}${name}/-/${name}-${installedVersion(name)}.tgz`;
      const dependencies: Record<string, string> = { zod: fromRegistry('zod'), ws: fromRegistry('ws') };
      for (const p of packed) dependencies[p.name] = `file:../tarballs/${p.filename}`;
      writeFileSync(
        join(appDir, 'package.json'),
        JSON.stringify({ name: 'packed-sdk-app', version: '1.0.0', private: true, type: 'module', dependencies }),
      );
      await succeeds('npm', ['install', '--offline', '--no-audit', '--no-fund'], appDir);
      assert.ok(!existsSync(join(appDir, 'node_modules/@collab/client/src')), 'the installed SDK carries src/');
    });

    it('an app imports @collab/client, edits a document on collab serve, and reads the text back', async () => {
      assert.ok(token !== '', 'no token (see the test before)');
      writeFileSync(join(appDir, 'app.mjs'), APP);
      const docId = `packed-${process.pid}`;
      const out = await succeeds(process.execPath, ['app.mjs', wsUrl, token, docId], appDir);
      const result = JSON.parse(out) as { text: string; version: number; sdk: string };
      assert.deepEqual(result, {
        text: 'Hello, from a packed SDK',
        version: 2,
        sdk: `file://${realpathSync(appDir)}/node_modules/@collab/client/dist/src/index.js`,
      });
    });

    it('the shipped declarations type-check an app that uses both entries', async () => {
      writeFileSync(join(appDir, 'typed-app.ts'), TYPED_APP);
      writeFileSync(
        join(appDir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: ['typed-app.ts'],
        }),
      );
      await succeeds(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], appDir);
    });

    it("the README's example of @collab/client/testing runs from the installed copy", async () => {
      writeFileSync(join(appDir, 'example.mjs'), readmeExample());
      const out = await succeeds(process.execPath, ['example.mjs'], appDir);
      assert.match(out, /^converged on "(WorldHello|HelloWorld)!" at version 3\n$/);
    });
  });
});
