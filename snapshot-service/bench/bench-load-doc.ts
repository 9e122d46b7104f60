/**
 * bench:load-doc — how long `current(docId)` takes for a document with a long history, with snapshots and
 * without (ops only), on the real stack (Cassandra read models + S3 snapshots).
 *
 * How the document is made (printed too): BENCH_OPS (default 1,000,000) seeded random ops (short inserts with
 * emoji, deletes; the text stays around BENCH_TARGET_CHARS code points) are written straight into the read-model
 * store with writeOps in chunks of 10,000, four chunks in flight — as the projection would, but without Kafka.
 * Snapshots of the text every 500 versions (the default policy) are put straight into the snapshot store, up
 * to 250 versions below the head (for 1M ops the newest is version 999,500: loads replay a 500-op tail, the
 * longest that policy leaves), and retention is applied after each put as the snapshot-service does, with its
 * default policy (keep the newest 3) unless BENCH_KEEP_LATEST / BENCH_KEEP_EVERY_VERSIONS say otherwise
 * (BENCH_KEEP_LATEST=0: keep every snapshot, ~2,000 objects for 1M ops — the load must not depend on the count).
 *
 * Then: BENCH_RUNS runs of BENCH_LOADS loads with snapshots (percentiles per run, and the median run), a
 * breakdown of one load's stages (BENCH_BREAKDOWN_LOADS times each: head, LIST, latest(), GET, tail, fold), and
 * BENCH_OPS_ONLY_LOADS loads from ops only (slow: every op is read from Cassandra and applied; bounded by count
 * and by BENCH_OPS_ONLY_BUDGET_S). Fresh keyspace and bucket, removed at the end unless BENCH_KEEP=1. Last, the
 * projection's rebuild throughput: bench:rebuild with BENCH_REBUILD_RUNS runs (default 3; 0 skips it).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createS3Client, createS3SnapshotStore, docPrefix, ensureBucket } from '@collab/adapter-s3';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { planRetention, type OpCommitted, type RetentionPolicy, type SnapshotMeta, bestEffort } from '@collab/core';
import { useStack } from '@collab/infra';
import { Doc, type, type TextOp } from '@collab/ot-text';
import { createDocumentReader } from '@collab/read-side';
import { rng } from '@collab/read-side/testing';
import cassandra from 'cassandra-driver';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const OPS = env('BENCH_OPS', 1_000_000);
const TARGET_CHARS = env('BENCH_TARGET_CHARS', 20_000);
const RUNS = env('BENCH_RUNS', 5);
const LOADS = env('BENCH_LOADS', 200);
const OPS_ONLY_LOADS = env('BENCH_OPS_ONLY_LOADS', 3);
const OPS_ONLY_BUDGET_S = env('BENCH_OPS_ONLY_BUDGET_S', 180);
const SNAPSHOT_EVERY = 500;
const KEEP_LATEST = env('BENCH_KEEP_LATEST', 3); // SNAPSHOT_KEEP_LATEST's default
const KEEP_EVERY = env('BENCH_KEEP_EVERY_VERSIONS', 0);
const RETENTION: RetentionPolicy | undefined =
  KEEP_LATEST === 0 ? undefined : { keepLatest: KEEP_LATEST, ...(KEEP_EVERY > 0 ? { keepEveryNth: KEEP_EVERY } : {}) };
const DOC = 'bench-long-history';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const stack = await useStack();
  const client = new cassandra.Client({
    contactPoints: stack.cassandra.contactPoints,
    localDataCenter: stack.cassandra.localDataCenter,
    socketOptions: { connectTimeout: 10_000, readTimeout: 120_000 },
  });
  await client.connect();
  const keyspace = `bench_load_doc_${randomBytes(4).toString('hex')}`;
  await migrate(client, { keyspace, replication: { class: 'SimpleStrategy', replicationFactor: 1 } });
  const readModels = await createCassandraReadModelStore({ client, keyspace, writeConcurrency: 128 });
  const s3 = {
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  };
  const s3Client = createS3Client(s3);
  const bucket = `collab-bench-${randomBytes(4).toString('hex')}`;
  await ensureBucket(s3Client, bucket);
  const snapshots = createS3SnapshotStore({ ...s3, bucket });
  const noSnapshots = createS3SnapshotStore({ ...s3, bucket, prefix: 'empty/' });

  try {
    console.log(
      `document: ${OPS.toLocaleString('en')} ops, text ~${TARGET_CHARS} code points; snapshots every ${SNAPSHOT_EVERY}; ` +
        `retention ${RETENTION === undefined ? 'off (every snapshot kept)' : JSON.stringify(RETENTION)}`,
    );
    const t0 = performance.now();
    const finalText = await writeHistory(readModels, snapshots);
    console.log(`written in ${((performance.now() - t0) / 1000).toFixed(0)} s (read models + snapshots)`);

    const withSnap = createDocumentReader({ readModels, snapshots });
    const check = await withSnap.current(DOC);
    if (check.version !== OPS || check.text !== finalText)
      throw new Error('loaded text differs from the generated one');
    for (let i = 0; i < 20; i++) await withSnap.current(DOC); // warm-up: connections, prepared statements, JIT

    const runs: { p50: number; p95: number; p99: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const start = performance.now();
        await withSnap.current(DOC);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const r = { p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99) };
      runs.push(r);
      console.log(
        `with snapshots, run ${run + 1}: p50 ${fmt(r.p50)}  p95 ${fmt(r.p95)}  p99 ${fmt(r.p99)}  (${LOADS} loads)`,
      );
    }
    const median = (k: 'p50' | 'p95' | 'p99') =>
      runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    console.log(
      `with snapshots, median of ${RUNS} runs: p50 ${fmt(median('p50'))}  p95 ${fmt(median('p95'))}  p99 ${fmt(median('p99'))}` +
        `  — target p95 < 100 ms: ${median('p95') < 100 ? 'met' : 'NOT met'}`,
    );

    await breakdown(readModels, snapshots, s3Client, bucket);

    const opsOnly = createDocumentReader({ readModels, snapshots: noSnapshots, pageSize: 10_000 });
    const times: number[] = [];
    const budgetEnd = performance.now() + OPS_ONLY_BUDGET_S * 1000;
    for (let i = 0; i < OPS_ONLY_LOADS && performance.now() < budgetEnd; i++) {
      const start = performance.now();
      const loaded = await opsOnly.current(DOC);
      times.push(performance.now() - start);
      if (loaded.text !== finalText) throw new Error('ops-only load differs');
    }
    times.sort((a, b) => a - b);
    if (times.length > 0)
      console.log(
        `ops only (no snapshot, ${OPS.toLocaleString('en')} ops replayed): ${times.length} loads` +
          ` (bounded: ${OPS_ONLY_LOADS} loads / ${OPS_ONLY_BUDGET_S} s): min ${fmt(times[0]!)}  median ${fmt(percentile(times, 50))}  max ${fmt(times.at(-1)!)}`,
      );
  } finally {
    if (process.env.BENCH_KEEP !== '1') {
      await bestEffort(client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`));
      let token: string | undefined;
      do {
        const page = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        // 32 at a time: a whole page (1,000) at once exhausts the connect timeout against a loaded S3Proxy.
        const keys = (page.Contents ?? []).map(({ Key }) => Key);
        for (let i = 0; i < keys.length; i += 32) {
          await Promise.all(
            keys.slice(i, i + 32).map((Key) => s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
          );
        }
        token = page.NextContinuationToken;
      } while (token !== undefined);
      await bestEffort(s3Client.send(new DeleteBucketCommand({ Bucket: bucket })));
    } else {
      console.log(`kept: keyspace ${keyspace}, bucket ${bucket}`);
    }
    await Promise.allSettled([readModels.close(), snapshots.close(), noSnapshots.close()]);
    s3Client.destroy();
    await client.shutdown();
  }
  await rebuildThroughput();
}

/**
 * The second figure, the projection's rebuild throughput, from its own benchmark (it needs an ops topic
 * in Kafka, which the loads above do not): `npm run bench:rebuild -- --runs BENCH_REBUILD_RUNS` in a child
 * process with this one's environment (the same stack). BENCH_REBUILD_RUNS=0 skips it.
 */
async function rebuildThroughput(): Promise<void> {
  const runs = env('BENCH_REBUILD_RUNS', 3);
  if (runs <= 0) return;
  console.log(`\nrebuild throughput (npm run bench:rebuild -- --runs ${runs}):`);
  const script = fileURLToPath(new URL('../../projection-service/bench/bench-rebuild.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=@collab/source', '--import', 'tsx', script, '--runs', String(runs)],
    { stdio: 'inherit' },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench:rebuild exited with ${code}`);
}

/**
 * Where a load's time goes: each stage of `current()` timed on its own, BREAKDOWN_LOADS times (median and p95):
 * the head read, the snapshot lookup (the LIST alone, and `latest()` = LIST + GET), the GET alone, the tail read
 * from the read models and the fold of the tail onto the snapshot's text.
 */
async function breakdown(
  readModels: Awaited<ReturnType<typeof createCassandraReadModelStore>>,
  snapshots: ReturnType<typeof createS3SnapshotStore>,
  s3Client: ReturnType<typeof createS3Client>,
  bucket: string,
): Promise<void> {
  const n = env('BENCH_BREAKDOWN_LOADS', 50);
  const stages = new Map<string, number[]>();
  const time = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await fn();
    const list = stages.get(stage) ?? [];
    list.push(performance.now() - start);
    stages.set(stage, list);
    return result;
  };
  const keyCount = await countKeys(s3Client, bucket, docPrefix('', DOC));
  const returned: number[] = [];
  for (let i = 0; i < n; i++) {
    const head = await time('head (Cassandra)', () => readModels.getHead(DOC));
    await time('snapshot LIST (MaxKeys 10)', () =>
      s3Client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: docPrefix('', DOC), MaxKeys: 10 })),
    );
    const snap = await time('snapshot latest() (the store)', () => snapshots.latest(DOC));
    if (snap === undefined || head === undefined) throw new Error('no snapshot or no head');
    if (!returned.includes(snap.version)) returned.push(snap.version);
    await time('snapshot GET alone', () => snapshots.get(DOC, snap.version));
    const ops = await time(`tail read (${head.version - snap.version} ops)`, () =>
      readModels.getOps(DOC, snap.version + 1, head.version + 1, 5_000),
    );
    await time('fold (rope from text + tail)', async () => {
      let doc = Doc.fromString(snap.text);
      for (const op of ops) doc = type.apply(doc, op.op);
      return doc;
    });
  }
  const newestPut = Math.floor((OPS - 250) / SNAPSHOT_EVERY) * SNAPSHOT_EVERY;
  console.log(
    `breakdown of a load (${n} loads, ${keyCount} snapshot objects of the document in the bucket; ` +
      `latest() gave version ${returned.join('/')}, the newest put was ${newestPut}):`,
  );
  for (const [stage, times] of stages) {
    times.sort((a, b) => a - b);
    console.log(`  ${stage.padEnd(36)} median ${fmt(percentile(times, 50))}  p95 ${fmt(percentile(times, 95))}`);
  }
}

async function countKeys(s3Client: ReturnType<typeof createS3Client>, bucket: string, prefix: string) {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3Client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    count += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return count;
}

/** Generate and store the history; returns the final text. */
async function writeHistory(
  readModels: Awaited<ReturnType<typeof createCassandraReadModelStore>>,
  snapshots: ReturnType<typeof createS3SnapshotStore>,
): Promise<string> {
  const random = rng(42);
  const pieces = ['a', 'bc', ' ', 'word ', '\n', '😀', '👍🏽', 'é'];
  let doc = type.create('');
  let chunk: OpCommitted[] = [];
  const inFlight = new Set<Promise<void>>();
  // One snapshot write at a time, as the snapshot-service writes a document (one job per document), overlapping
  // the read-model writes; at most 16 queued.
  let snapshotChain: Promise<void> = Promise.resolve();
  let queued = 0;
  const kept: SnapshotMeta[] = [];
  /** After each put, as the snapshot-service does after each created snapshot: drop what the policy drops. */
  const applyRetention = async () => {
    if (RETENTION === undefined) return;
    const plan = planRetention(kept, RETENTION);
    await Promise.all(plan.drop.map((m) => snapshots.delete(DOC, m.version)));
    kept.splice(0, kept.length, ...plan.keep);
  };
  const flush = async (ops: OpCommitted[]) => {
    const p = readModels.writeOps(ops).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  };
  const start = Date.now() - OPS * 10;
  for (let version = 1; version <= OPS; version++) {
    const length = doc.length;
    const pos = Math.floor(random() * (length + 1));
    // Deletes become likelier as the text grows past the target, so it hovers around it.
    const deleting = length > 0 && pos < length && random() < 0.3 + 0.4 * Math.min(1, length / TARGET_CHARS);
    const op: TextOp = pos > 0 ? [pos] : [];
    op.push(
      deleting
        ? { d: Math.min(length - pos, 1 + Math.floor(random() * 4)) }
        : pieces[Math.floor(random() * pieces.length)]!,
    );
    doc = type.apply(doc, op);
    chunk.push({
      docId: DOC,
      version,
      op,
      baseVersion: version - 1,
      clientId: 'bench',
      seq: version,
      userId: 'bench',
      timestamp: start + version * 10,
    });
    if (chunk.length === 10_000) {
      await flush(chunk);
      chunk = [];
    }
    if (version % SNAPSHOT_EVERY === 0 && version <= OPS - 250) {
      const text = doc.toString();
      queued++;
      snapshotChain = snapshotChain.then(async () => {
        const createdAt = Date.now();
        await snapshots.put({ docId: DOC, version, text, createdAt });
        kept.push({ docId: DOC, version, createdAt, size: Buffer.byteLength(text) });
        await applyRetention();
        queued--;
      });
      if (queued >= 16) await snapshotChain;
    }
    if (version % 100_000 === 0) console.log(`  ${version.toLocaleString('en')} ops generated`);
  }
  if (chunk.length > 0) await flush(chunk);
  await Promise.all([...inFlight, snapshotChain]);
  return doc.toString();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
