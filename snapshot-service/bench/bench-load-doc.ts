/**
 * bench:load-doc — how long `current(docId)` takes for a document with a long history, with snapshots and
 * without (ops only), on the real stack (Cassandra read models + S3 snapshots).
 *
 * How the document is made (printed too): BENCH_OPS (default 1,000,000) seeded random ops (short inserts with
 * emoji, deletes; the text stays around BENCH_TARGET_CHARS code points) are written straight into the read-model
 * store with writeOps in chunks of 10,000, four chunks in flight — as the projection would, but without Kafka.
 * Snapshots of the text every 500 versions (the default policy) are put straight into the snapshot store, up
 * to 250 versions below the head: a load then replays a 250-op tail, the average under that policy.
 *
 * Then: BENCH_RUNS runs of BENCH_LOADS loads with snapshots (percentiles per run, and the median run), and
 * BENCH_OPS_ONLY_LOADS loads from ops only (slow: every op is read from Cassandra and applied; bounded by count
 * and by BENCH_OPS_ONLY_BUDGET_S). Fresh keyspace and bucket, removed at the end unless BENCH_KEEP=1.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createCassandraReadModelStore, migrate } from '@collab/adapter-cassandra';
import { createS3Client, createS3SnapshotStore, ensureBucket } from '@collab/adapter-s3';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { OpCommitted } from '@collab/core';
import { useStack } from '@collab/infra';
import { type, type TextOp } from '@collab/ot-text';
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
      `document: ${OPS.toLocaleString('en')} ops, text ~${TARGET_CHARS} code points; snapshots every ${SNAPSHOT_EVERY}`,
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
    console.log(
      `ops only (no snapshot, ${OPS.toLocaleString('en')} ops replayed): ${times.length} loads` +
        ` (bounded: ${OPS_ONLY_LOADS} loads / ${OPS_ONLY_BUDGET_S} s): min ${fmt(times[0]!)}  median ${fmt(percentile(times, 50))}  max ${fmt(times.at(-1)!)}`,
    );
  } finally {
    if (process.env.BENCH_KEEP !== '1') {
      await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
      let token: string | undefined;
      do {
        const page = await s3Client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        await Promise.all(
          (page.Contents ?? []).map(({ Key }) => s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
        );
        token = page.NextContinuationToken;
      } while (token !== undefined);
      await s3Client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    } else {
      console.log(`kept: keyspace ${keyspace}, bucket ${bucket}`);
    }
    await Promise.allSettled([readModels.close(), snapshots.close(), noSnapshots.close()]);
    s3Client.destroy();
    await client.shutdown();
  }
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
  const snapshotWrites: Promise<unknown>[] = [];
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
      snapshotWrites.push(snapshots.put({ docId: DOC, version, text: doc.toString(), createdAt: Date.now() }));
      if (snapshotWrites.length >= 16) await Promise.all(snapshotWrites.splice(0));
    }
    if (version % 100_000 === 0) console.log(`  ${version.toLocaleString('en')} ops generated`);
  }
  if (chunk.length > 0) await flush(chunk);
  await Promise.all([...inFlight, ...snapshotWrites]);
  return doc.toString();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
