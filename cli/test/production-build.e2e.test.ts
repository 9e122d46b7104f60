/**
 * The production build, as an operator runs it: `npm run build` once (tsc -b into each workspace's dist/, the web
 * editor's page into packages/web-editor/dist/page), then every entry point started with plain `node` — no tsx,
 * no source condition, so every @collab/* import resolves to dist/ — against the real stack: `collab migrate`
 * creates the storage, each service prints its ready line and exits 0 on SIGTERM, and `collab serve` (embedded)
 * serves the page it was built with.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@collab/adapter-s3';
import type { StackEndpoints } from '@collab/infra';
import { stackHooks, useStack, freePort } from '@collab/infra';
import cassandra from 'cassandra-driver';
import { sdkClient, until } from './support/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SECRET = 'production-build-secret-production-build!';

/** Only what a deployment would set: no NODE_OPTIONS, no COLLAB_* of the caller. */
function deploymentEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...extra };
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => done({ code, output }));
  });
}

/**
 * The `collab_*` metric names a compiled service's Prometheus endpoint lists, once it lists any: a meter taken
 * before the SDK started (or a second copy of the OpenTelemetry API in dist/) would leave it at
 * `# no registered metrics` (issue 22).
 */
async function scrapedMetricNames(port: number): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const names = [...text.matchAll(/^(collab_\w+)/gm)].map((m) => m[1]!);
    if (names.length > 0 || attempt >= 100) return [...new Set(names)];
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** A compiled entry point under plain node, until its ready line. */
class CompiledProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly entry: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  static async start(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<CompiledProcess> {
    // process.execPath and the file alone: the flags an operator's `node dist/.../main.js` would have.
    const child = spawn(process.execPath, [join(ROOT, entry), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = new CompiledProcess(entry, child);
    await new Promise<void>((ready, failed) => {
      const onLine = (line: string) => {
        started.lines.push(line);
        if (line.startsWith('{"ready":true')) ready();
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      void started.exited.then((code) =>
        failed(new Error(`${entry} exited (${code}) before ready:\n${started.lines.slice(-20).join('\n')}`)),
      );
    });
    return started;
  }

  get ready(): Record<string, unknown> {
    return JSON.parse(this.lines.find((l) => l.startsWith('{"ready":true'))!) as Record<string, unknown>;
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe('the production build: npm run build, then every entry point under plain node', function () {
  this.timeout(600_000);
  let stack: StackEndpoints;
  const id = randomBytes(4).toString('hex');
  const names = {
    COLLAB_OPS_TOPIC: `build.ops.${id}`,
    COLLAB_COMMANDS_TOPIC: `build.commands.${id}`,
    COLLAB_REPLIES_TOPIC: `build.replies.${id}`,
    CASSANDRA_KEYSPACE: `build_${id}`,
    S3_BUCKET: `collab-build-${id}`,
  };
  let storage: NodeJS.ProcessEnv = {};
  const running: CompiledProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'collab-build-'));

  before(stackHooks.beforeAll);
  after(stackHooks.afterAll);

  before(async () => {
    stack = await useStack();
    storage = {
      KAFKA_BROKERS: stack.kafka.brokers.join(','),
      CASSANDRA_CONTACT_POINTS: stack.cassandra.contactPoints.join(','),
      CASSANDRA_LOCAL_DC: stack.cassandra.localDataCenter,
      S3_ENDPOINT: stack.s3.endpoint,
      S3_REGION: stack.s3.region,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      ...names,
    };
    const build = await run('npm', ['run', 'build'], { ...process.env });
    assert.equal(build.code, 0, `npm run build:\n${build.output}`);
  });

  after(async () => {
    for (const p of running) p.kill();
    rmSync(dataDir, { recursive: true, force: true });
    if (stack === undefined) return;
    const cql = new cassandra.Client({
      contactPoints: stack.cassandra.contactPoints,
      localDataCenter: stack.cassandra.localDataCenter,
    });
    await cql.execute(`DROP KEYSPACE IF EXISTS ${names.CASSANDRA_KEYSPACE}`).catch(() => {});
    await cql.shutdown();
    const s3 = createS3Client({
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
    });
    await s3.send(new DeleteBucketCommand({ Bucket: names.S3_BUCKET })).catch(() => {});
    s3.destroy();
  });

  it('collab runs from dist: --help, and migrate creates the distributed storage', async () => {
    const help = await run(process.execPath, ['cli/dist/src/main.js', '--help'], deploymentEnv({}));
    assert.equal(help.code, 0, help.output);
    assert.match(help.output, /Usage: collab/);
    const migrate = await run(
      process.execPath,
      ['cli/dist/src/main.js', 'migrate', '--mode', 'distributed'],
      deploymentEnv(storage as Record<string, string>),
    );
    assert.equal(migrate.code, 0, migrate.output);
    assert.match(migrate.output, new RegExp(`topic ${names.COLLAB_OPS_TOPIC.replaceAll('.', '\\.')} created`));
  });

  it('each service starts from dist with plain node, prints its ready line, exports its metrics and exits 0 on SIGTERM', async () => {
    const env = storage as Record<string, string>;
    const [commandMetrics, projectionMetrics, snapshotMetrics] = [await freePort(), await freePort(), await freePort()];
    const services = await Promise.all([
      CompiledProcess.start(
        'command-service/dist/src/main.js',
        [],
        deploymentEnv({
          ...env,
          COLLAB_JWT_SECRET: SECRET,
          COLLAB_HOST: '127.0.0.1',
          COLLAB_PORT: '0',
          COLLAB_METRICS_PORT: String(commandMetrics),
          COLLAB_PROJECTION_GROUP: `build-projection-${id}`,
        }),
      ),
      CompiledProcess.start(
        'projection-service/dist/src/main.js',
        [],
        deploymentEnv({
          ...env,
          COLLAB_METRICS_PORT: String(projectionMetrics),
          COLLAB_PROJECTION_GROUP: `build-projection-${id}`,
        }),
      ),
      CompiledProcess.start(
        'snapshot-service/dist/src/main.js',
        [],
        deploymentEnv({
          ...env,
          COLLAB_METRICS_PORT: String(snapshotMetrics),
          COLLAB_SNAPSHOT_CONSUMER_GROUP: `build-snapshot-${id}`,
        }),
      ),
      CompiledProcess.start(
        'cli/dist/src/main.js',
        ['serve', '--data-dir', dataDir, '--port', '0'],
        deploymentEnv({ COLLAB_JWT_SECRET: SECRET }),
      ),
    ]);
    running.push(...services);
    const [command, , , embedded] = services as [CompiledProcess, CompiledProcess, CompiledProcess, CompiledProcess];
    // The page each command-service serves is the one `npm run build` made (compiled code never rebuilds it).
    for (const url of [`http://127.0.0.1:${String(command.ready.port)}/`, String(embedded.ready.url) + '/']) {
      const page = await fetch(url);
      assert.equal(page.status, 200, url);
      assert.match(await page.text(), /<script type="module" src="\/app\.js"/, url);
    }
    // One op through the compiled pipeline, so that the projection has a partition to report on.
    const http = `http://127.0.0.1:${String(command.ready.port)}`;
    // The token as an operator mints one: the compiled CLI, with the service's secret.
    const minted = await run(
      process.execPath,
      ['cli/dist/src/main.js', 'token', '--user', 'operator'],
      deploymentEnv({ COLLAB_JWT_SECRET: SECRET }),
    );
    assert.equal(minted.code, 0, minted.output);
    const client = sdkClient(`${http.replace('http', 'ws')}/v1/ws`, minted.output.trim().split('\n').pop()!);
    try {
      const doc = await client.openDocument(`build-${id}`);
      doc.insert(0, 'compiled');
      await until('the op is acknowledged', () => doc.pendingCount === 0);
    } finally {
      client.close();
    }
    // Each compiled service exports its own metrics (the same names the telemetry-processes test counts).
    const exported = {
      command: await scrapedMetricNames(commandMetrics),
      projection: await scrapedMetricNames(projectionMetrics),
      snapshot: await scrapedMetricNames(snapshotMetrics),
    };
    assert.ok(exported.command.includes('collab_documents_open'), JSON.stringify(exported));
    assert.ok(
      exported.projection.some((n) => n.startsWith('collab_projection_')),
      JSON.stringify(exported),
    );
    assert.ok(
      exported.snapshot.some((n) => n.startsWith('collab_snapshot_')),
      JSON.stringify(exported),
    );
    const codes = await Promise.all(services.map((s) => s.stop()));
    services.forEach((s, i) =>
      assert.equal(codes[i], 0, `${s.entry} after SIGTERM:\n${s.lines.slice(-10).join('\n')}`),
    );
  });
});
