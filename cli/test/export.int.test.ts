/**
 * `collab export` in the distributed mode, as a child process against the integration stack's Kafka (and
 * Cassandra for the read models that say where a document starts): a time range found with Kafka's ListOffsets
 * by timestamp (Avro, snappy), an offset range per partition, documents, and an export to Parquet killed with
 * SIGKILL mid-way then resumed — each output read back and compared with the log, every op exactly once (a comment
 * event in the log skipped, or with --comments exported with its kind); the Avro and Parquet files also by Python's
 * fastavro and pyarrow
 * (readers/python/read_export.py), not our code.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type OpCommitted, type OpLog, type ReadModelStore } from '@collab/core';
import { useStack } from '@collab/infra';
import avro from 'avsc';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { avroDecoderCodecs } from '../src/export/avro-codecs.js';
import { readCheckpoint } from '../src/export/checkpoint.js';
import { runCli, tempDataDir } from './support/cli.js';
import {
  appendingOp,
  distributedEnv,
  freshKeyspace,
  freshOpsTopic,
  type OpsTopic,
  type TestKeyspace,
} from './support/distributed.js';
import { fromAvro, parseNdjson } from './support/oracle.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PARTITIONS = 3;
const DOCS = 6;
const VERSIONS = 100;
const BATCH = 25;
const iso = (ms: number) => new Date(ms).toISOString();
const key = (op: OpCommitted) => `${op.docId}@${op.version}`;
const sorted = (ops: readonly OpCommitted[]) => ops.map(key).sort();
const run = promisify(execFile);

type PythonRow = Pick<OpCommitted, 'docId' | 'version' | 'timestamp'> & Record<string, unknown>;

/** readers/python/read_export.py (pyarrow, fastavro from PyPI, in the readers' virtualenv): one JSON per op. */
async function pythonRead(args: string[]): Promise<{ rows: PythonRow[]; stderr: string }> {
  const readers = join(ROOT, 'readers/python');
  const python = (await run('bash', [join(readers, 'setup.sh')], { timeout: 240_000 })).stdout.trim();
  const { stdout, stderr } = await run(python, [join(readers, 'read_export.py'), ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return { rows: parseNdjson(stdout) as unknown as PythonRow[], stderr };
}

describe('collab export on Kafka', function () {
  this.timeout(300_000);
  const suffix = randomBytes(4).toString('hex');
  const topic = `test.export.${suffix}`;
  const keyspace = `export_test_${suffix}`;
  const tmp = tempDataDir();
  let log: OpLog;
  let readModels: ReadModelStore;
  let env: NodeJS.ProcessEnv;
  let ops: OpsTopic;
  let keyspaceOf: TestKeyspace;
  /** Every op, and each one's offset. */
  const all: OpCommitted[] = [];
  const offsets = new Map<string, { partition: number; offset: bigint }>();
  /** When the comment event was committed. */
  let commentAt = 0;
  /** The stamp of each round of transactions (one per partition). */
  const roundStamps: number[] = [];

  before(async () => {
    const stack = await useStack();
    ops = await freshOpsTopic(stack.kafka.brokers, topic, PARTITIONS);
    log = ops.log;
    // Documents take turns (version v of every document, then v + 1). Each op is stamped as the command service
    // stamps it, with the time it is committed (below), so the log's stamps rise as in production.
    for (let v = 1; v <= VERSIONS; v++) {
      for (let d = 0; d < DOCS; d++) {
        all.push(appendingOp(`doc-${d}`, v, 0));
      }
    }
    // Transactions of BATCH ops, in rounds: one per partition per round. Every op of a transaction gets one stamp
    // taken after the previous transaction returned, so it is later than that transaction's commit marker too
    // (stamped by the broker's clock, the same host clock): round r's stamp is where round r starts in each partition.
    let stamp = 0;
    const nextStamp = () => {
      while (Date.now() <= stamp); // a millisecond later than the last one
      return (stamp = Date.now());
    };
    const writers = await Promise.all([...Array(PARTITIONS).keys()].map((p) => log.openWriter(p)));
    const byPartition = writers.map((_w, p) => all.filter((o) => log.partitionFor(o.docId) === p));
    for (let i = 0; byPartition.some((ops) => i < ops.length); i += BATCH) {
      const round = nextStamp();
      roundStamps.push(round);
      for (let p = 0; p < PARTITIONS; p++) {
        const batch = byPartition[p]!.slice(i, i + BATCH);
        if (batch.length === 0) continue;
        for (const op of batch) op.timestamp = round;
        const at = await writers[p]!.append(batch.map((value) => ({ value })));
        at.forEach((offset, j) => offsets.set(key(batch[j]!), { partition: p, offset }));
      }
    }
    for (const writer of writers) await writer.close();
    // A comment event after doc-1's ops, in its partition: exports of ops skip it.
    const commented = await log.openWriter(log.partitionFor('doc-1'));
    await commented.append([
      {
        value: {
          docId: 'doc-1',
          version: VERSIONS,
          userId: 'u',
          timestamp: (commentAt = nextStamp()),
          body: { kind: 'resolved', threadId: 'thread-1' },
        },
      },
    ]);
    await commented.close();
    keyspaceOf = await freshKeyspace(stack, keyspace);
    readModels = keyspaceOf.store;
    await readModels.writeOps(all);
    env = distributedEnv(stack, ops, PARTITIONS, keyspace);
  });
  after(async () => {
    await ops?.remove();
    await keyspaceOf?.remove();
    tmp.remove();
  });

  const opOf = (row: { docId: string; version: number }): OpCommitted => {
    const op = all.find((o) => o.docId === row.docId && o.version === row.version);
    if (op === undefined) throw new Error(`${row.docId}@${row.version} is not an op of the log`);
    return op;
  };

  const exportCli = async (args: string[]) => {
    const r = await runCli(['export', ...args], env);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  it('a time range, both ends found with ListOffsets by timestamp: the ops of [since, until), as Avro with snappy', async () => {
    // Every partition has at least 4 rounds (doc-3 alone in partition 0: 100 ops).
    const since = roundStamps[1]!;
    const until = roundStamps[3]!;
    const expected = all.filter((o) => o.timestamp >= since && o.timestamp < until);
    // Each partition is read from the first op of round 1 and stops before the first op of round 3: the offsets
    // Kafka's time index gives for both ends, with a round or more of the partition after the stop.
    const [startAt, stopAt, ends] = await Promise.all([
      log.offsetsForTime(since),
      log.offsetsForTime(until),
      log.endOffsets(),
    ]);
    for (let p = 0; p < PARTITIONS; p++) {
      const first = (t: number) =>
        offsets.get(key(all.find((o) => log.partitionFor(o.docId) === p && o.timestamp === t)!))!;
      assert.equal(startAt[p], first(since).offset, `partition ${p} starts at round 1`);
      assert.equal(stopAt[p], first(until).offset, `partition ${p} stops at round 3`);
      assert.ok(stopAt[p]! + BigInt(BATCH) <= ends[p]!, `partition ${p}: nothing after the stop ${stopAt[p]}`);
    }
    const out = join(tmp.dir, 'window.avro');
    const r = await exportCli(
      ['--all', '--since', iso(since), '--until', iso(until), '--format', 'avro'].concat([
        '--codec',
        'snappy',
        '--out',
        out,
      ]),
    );
    assert.match(r.stderr, new RegExp(`exported ${expected.length} op\\(s\\)`));
    const got: OpCommitted[] = [];
    let codec = '';
    await new Promise<void>((done, fail) =>
      avro
        .createFileDecoder(out, { codecs: avroDecoderCodecs })
        .on('metadata', (_t: unknown, c: string) => (codec = c))
        .on('data', (rec: Parameters<typeof fromAvro>[0]) => got.push(fromAvro(rec)))
        .on('end', done)
        .on('error', fail),
    );
    assert.equal(codec, 'snappy');
    assert.deepEqual(sorted(got), sorted(expected));
    // And with fastavro (Python), which checks each snappy block's CRC.
    const python = await pythonRead(['--avro', out]);
    assert.match(python.stderr, /"codec": "snappy"/);
    assert.deepEqual(python.rows.map((row) => `${row.docId}@${row.version}`).sort(), sorted(expected));
    for (const row of python.rows) assert.equal(row.timestamp, opOf(row).timestamp);
    const byKey = new Map(all.map((o) => [key(o), o]));
    for (const op of got) assert.deepEqual(op, byKey.get(key(op)));
  });

  it('an offset range per partition (--from-offsets 0:10,2:30 --to-offsets 0:90)', async () => {
    const r = await exportCli(['--all', '--from-offsets', '0:10,2:30', '--to-offsets', '0:90']);
    const inRange = (op: OpCommitted) => {
      const { partition, offset } = offsets.get(key(op))!;
      if (partition === 0) return offset >= 10n && offset < 90n;
      if (partition === 2) return offset >= 30n;
      return true;
    };
    assert.deepEqual(sorted(parseNdjson(r.stdout)), sorted(all.filter(inRange)));
  });

  it('documents (--doc, --docs-from): their whole histories, each checked from version 1', async () => {
    const expected = sorted(all.filter((o) => o.docId === 'doc-4' || o.docId === 'doc-1'));
    const r = await exportCli(['--doc', 'doc-4', '--doc', 'doc-1']);
    assert.deepEqual(sorted(parseNdjson(r.stdout)), expected);
    const list = join(tmp.dir, 'docs.txt');
    writeFileSync(list, 'doc-4\n\ndoc-1\n');
    assert.deepEqual(sorted(parseNdjson((await exportCli(['--docs-from', list])).stdout)), expected);
  });

  it('--comments: the comment event among the ops, with its kind, read back by pyarrow and fastavro', async () => {
    const expectedComment = {
      kind: 'comment',
      docId: 'doc-1',
      version: VERSIONS,
      userId: 'u',
      timestamp: commentAt,
      body: { kind: 'resolved', threadId: 'thread-1' },
    };
    const parquetDir = join(tmp.dir, 'with-comments');
    const avroFile = join(tmp.dir, 'with-comments.avro');
    for (const [format, out] of [
      ['parquet', parquetDir],
      ['avro', avroFile],
    ] as const) {
      const r = await exportCli(['--all', '--comments', '--format', format, '--out', out, '--no-progress']);
      assert.match(
        r.stderr,
        new RegExp(`exported ${all.length} op\\(s\\) of ${DOCS} document\\(s\\) and 1 comment event`),
      );
      const { rows } = await pythonRead([`--${format}`, out]);
      assert.deepEqual(
        rows.filter((row) => row.kind === 'comment'),
        [expectedComment],
        format,
      );
      const ops = rows.filter((row) => row.kind === 'op');
      assert.deepEqual(ops.map((row) => `${row.docId}@${row.version}`).sort(), sorted(all), format);
      // In its partition the event follows doc-1's last op.
      const doc1 = rows.filter((row) => row.docId === 'doc-1');
      assert.deepEqual(doc1.at(-1), expectedComment, format);
      assert.equal(doc1.at(-2)?.version, VERSIONS, format);
    }
  });

  it('refuses --resume without --out, and a resume with no checkpoint, with exit 2', async () => {
    const noOut = await runCli(['export', '--all', '--resume'], env);
    assert.equal(noOut.code, 2, noOut.stderr);
    assert.match(noOut.stderr, /--resume and --checkpoint need --out/);
    const none = await runCli(['export', '--all', '--resume', '--out', join(tmp.dir, 'never.ndjson')], env);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /no checkpoint at .*never\.ndjson\.checkpoint\.json: nothing to resume/);
  });

  it('Parquet, killed with SIGKILL mid-way, then --resume: every op exactly once', async () => {
    const out = join(tmp.dir, 'all.parquet');
    const checkpoint = `${out}.checkpoint.json`;
    const args = ['export', '--all', '--format', 'parquet', '--out', out, '--checkpoint-every', '20', '--no-progress'];
    const child = spawn(
      process.execPath,
      ['--conditions=@collab/source', '--import', 'tsx', 'cli/src/main.ts', ...args],
      {
        cwd: ROOT,
        env,
        stdio: 'ignore',
      },
    );
    const exited = once(child, 'exit');
    // Kill it once a checkpoint counts some ops but not all (each partition's read waits for a group join).
    let killedAt: number | undefined;
    while (killedAt === undefined && child.exitCode === null) {
      const cp = existsSync(checkpoint) ? readCheckpoint(checkpoint) : undefined;
      if (cp !== undefined && cp.records > 0 && cp.records < all.length) {
        child.kill('SIGKILL');
        killedAt = cp.records;
      } else await new Promise((r) => setTimeout(r, 10));
    }
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.ok(killedAt !== undefined && signal === 'SIGKILL', `the export ended by itself first (${code})`);
    const resumed = await exportCli(args.slice(1).concat('--resume'));
    assert.match(resumed.stderr, new RegExp(`exported ${all.length} op\\(s\\) of the stream .*\\(resumed\\)`));
    assert.ok(!existsSync(checkpoint), 'a finished export removes its checkpoint');
    const got: OpCommitted[] = [];
    for (const name of readdirSync(out).sort()) {
      assert.match(name, /^part-\d{5}\.parquet$/);
      for (const row of await parquetReadObjects({ file: await asyncBufferFromFile(join(out, name)) })) {
        got.push({
          docId: row.docId as string,
          version: Number(row.version),
          op: row.op as OpCommitted['op'],
          baseVersion: Number(row.baseVersion),
          clientId: row.clientId as string,
          seq: Number(row.seq),
          userId: row.userId as string,
          timestamp: (row.timestamp as Date).getTime(),
        });
      }
    }
    assert.equal(got.length, all.length, `killed at ${killedAt} ops`);
    assert.deepEqual(sorted(got), sorted(all));
    const byKey = new Map(all.map((o) => [key(o), o]));
    for (const op of got) assert.deepEqual(op, byKey.get(key(op)));
    assert.ok(
      readFileSync(join(out, readdirSync(out)[0]!))
        .subarray(0, 4)
        .toString() === 'PAR1',
    );
    // And with pyarrow, reading the directory as one table.
    const python = await pythonRead(['--parquet', out]);
    assert.equal(python.rows.length, all.length);
    for (const row of python.rows) {
      const op = opOf(row);
      assert.deepEqual(row, {
        docId: op.docId,
        version: op.version,
        baseVersion: op.baseVersion,
        clientId: op.clientId,
        seq: op.seq,
        userId: op.userId,
        timestamp: op.timestamp,
        op: op.op,
      });
    }
  });
});
