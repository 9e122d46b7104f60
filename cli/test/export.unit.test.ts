/**
 * collab export's parts on the embedded log (a real SQLite file): argument parsing, planning by document, time and
 * offset range, checkpoints, each sink read back with an independent reader (avsc for Avro, hyparquet for
 * Parquet), and an export aborted mid-way then resumed: every op exactly once in the output.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCollabError, type CommentEvent, type OpCommitted, type OpLog } from '@collab/core';
import { createSqliteStorage, type SqliteStorage } from '@collab/adapter-sqlite';
import avro from 'avsc';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parsePartitionOffsets } from '../src/args.js';
import { UsageError } from '../src/errors.js';
import { avroDecoderCodecs } from '../src/export/avro-codecs.js';
import { readCheckpoint } from '../src/export/checkpoint.js';
import { runExport, type RunOptions } from '../src/export/run.js';
import { checkRequest, type ExportRequest } from '../src/export/request.js';
import { fromAvro } from './support/oracle.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MINUTE = 60_000;
const PARTITIONS = 3;

/** Docs d0..d4, 40 versions each, committed one minute apart in turns (d0 v1, d1 v1, ..., d0 v2, ...). */
async function seed(storage: SqliteStorage): Promise<OpCommitted[]> {
  const all: OpCommitted[] = [];
  const writers = new Map<number, Awaited<ReturnType<OpLog['openWriter']>>>();
  let t = T0;
  for (let version = 1; version <= 40; version++) {
    for (let d = 0; d < 5; d++) {
      const docId = `d${d}`;
      const op: OpCommitted = {
        docId,
        version,
        op: version === 1 ? ['a'] : [version - 1, 'b'],
        baseVersion: version - 1,
        clientId: 'c',
        seq: version,
        userId: 'u',
        timestamp: t,
      };
      t += MINUTE;
      const partition = storage.opLog.partitionFor(docId);
      if (!writers.has(partition)) writers.set(partition, await storage.opLog.openWriter(partition));
      await writers.get(partition)!.append([{ value: op }]);
      all.push(op);
    }
  }
  await storage.readModels.writeOps(all);
  for (const w of writers.values()) await w.close();
  return all;
}

const key = (op: OpCommitted) => `${op.docId}@${op.version}`;
const sorted = (ops: readonly OpCommitted[]) => ops.map(key).sort();

function request(extra: Partial<ExportRequest>): ExportRequest {
  return checkRequest({
    docs: 'all',
    fromOffsets: new Map(),
    toOffsets: new Map(),
    format: 'ndjson',
    codec: 'null',
    ...extra,
  });
}

const options = (dir: string, extra: Partial<RunOptions> = {}): RunOptions => ({
  checkpoint: join(dir, 'out.checkpoint.json'),
  checkpointEvery: 7,
  resume: false,
  progress: false,
  ...extra,
});

const readNdjson = (path: string): OpCommitted[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OpCommitted);

async function readAvro(path: string): Promise<{ ops: OpCommitted[]; codec: string }> {
  const ops: OpCommitted[] = [];
  let codec = '';
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(path, { codecs: avroDecoderCodecs })
      .on('metadata', (_type: unknown, c: string) => (codec = c))
      .on('data', (r: Parameters<typeof fromAvro>[0]) => ops.push(fromAvro(r)))
      .on('end', resolve)
      .on('error', reject);
  });
  return { ops, codec };
}

async function readParquet(dir: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = await asyncBufferFromFile(join(dir, name));
    rows.push(...(await parquetReadObjects({ file })));
  }
  return rows;
}

/** The log, failing its read after `batches` batches: an export aborted mid-way. */
function failingAfter(log: OpLog, batches: number): OpLog {
  let left = batches;
  return {
    ...log,
    partitionFor: (d) => log.partitionFor(d),
    offsetsForTime: (t) => log.offsetsForTime(t),
    endOffsets: () => log.endOffsets(),
    read: (partition, from) =>
      (async function* () {
        for await (const batch of log.read(partition, from, { batchSize: 3 })) {
          if (left-- <= 0) throw new Error('the log went away');
          yield batch;
        }
      })(),
  };
}

describe('collab export (unit, embedded log)', function () {
  this.timeout(60_000);
  let dir: string;
  let storage: SqliteStorage;
  let all: OpCommitted[];
  const source = () => ({ log: storage.opLog, readModels: storage.readModels, close: async () => {} });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collab-export-'));
    storage = await createSqliteStorage({ path: join(dir, 'collab.db'), partitionCount: PARTITIONS });
    all = await seed(storage);
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses offsets per partition with = or :, refusing unknown partitions and repeats', () => {
    assert.deepEqual(
      [...parsePartitionOffsets('--from-offsets', '0:120,2=55', 3)],
      [
        [0, 120n],
        [2, 55n],
      ],
    );
    assert.deepEqual(
      [...parsePartitionOffsets('--to-offsets', '9', 2)],
      [
        [0, 9n],
        [1, 9n],
      ],
    );
    assert.throws(
      () => parsePartitionOffsets('--from-offsets', '3:1,0:1,0:2,x', 3),
      (err: Error) => {
        assert.ok(err instanceof UsageError);
        for (const bad of ['"3:1"', '"0:2"', '"x"']) assert.ok(err.message.includes(bad), err.message);
        return true;
      },
    );
  });

  it('refuses inconsistent requests, naming each problem', () => {
    assert.throws(
      () => request({ since: T0 + 10, until: T0, format: 'parquet', codec: 'deflate' }),
      (err: Error) =>
        err instanceof UsageError &&
        /--since must be before --until/.test(err.message) &&
        /deflate is for avro/.test(err.message) &&
        /give it with --out/.test(err.message),
    );
    assert.throws(() => request({ codec: 'snappy' }), /--codec is for avro and parquet/);
  });

  it('a document: its whole history, started from the read models, not from offset 0', async () => {
    const log = storage.opLog;
    // A document committed first after another one of its partition: the records before its start are skipped.
    const docs = ['d0', 'd1', 'd2', 'd3', 'd4'];
    const doc = docs.find((d, i) => docs.slice(0, i).some((e) => log.partitionFor(e) === log.partitionFor(d)))!;
    const firstAt = all.find((o) => o.docId === doc)!.timestamp;
    const out = join(dir, `${doc}.ndjson`);
    let firstRead: bigint | undefined;
    const watched: OpLog = {
      ...log,
      partitionFor: (d) => log.partitionFor(d),
      offsetsForTime: (t) => log.offsetsForTime(t),
      endOffsets: () => log.endOffsets(),
      read: (partition, from) => {
        firstRead ??= from;
        return log.read(partition, from);
      },
    };
    const summary = await runExport({ ...source(), log: watched }, request({ docs: [doc], out }), options(dir));
    assert.match(summary, new RegExp(`exported 40 op\\(s\\) of ${doc} \\(versions 1\\.\\.40\\)`));
    assert.deepEqual(
      readNdjson(out),
      all.filter((o) => o.docId === doc),
    );
    const expectedStart = (await log.offsetsForTime(firstAt))[log.partitionFor(doc)]!;
    assert.equal(firstRead, expectedStart);
    assert.ok(expectedStart > 0n, 'the test must have records to skip');
    assert.ok(!existsSync(join(dir, 'out.checkpoint.json')), 'a finished export removes its checkpoint');
  });

  it('a time range: the ops committed in [since, until), and consecutive windows cover the log once', async () => {
    const cut = [T0, T0 + 50 * MINUTE, T0 + 137 * MINUTE, T0 + 1000 * MINUTE];
    const windows: OpCommitted[][] = [];
    for (let i = 0; i + 1 < cut.length; i++) {
      const out = join(dir, `w${i}.ndjson`);
      await runExport(source(), request({ since: cut[i]!, until: cut[i + 1]!, out }), options(dir));
      const got = readNdjson(out);
      assert.deepEqual(
        sorted(got),
        sorted(all.filter((o) => o.timestamp >= cut[i]! && o.timestamp < cut[i + 1]!)),
        `window ${i}`,
      );
      windows.push(got);
    }
    assert.deepEqual(sorted(windows.flat()), sorted(all));
  });

  it('--until stops each partition at the offset for that time, not at its end', async () => {
    const until = T0 + 60 * MINUTE;
    const stops = await storage.opLog.offsetsForTime(until);
    const ends = await storage.opLog.endOffsets();
    let readPast = 0;
    const counting: OpLog = {
      ...storage.opLog,
      partitionFor: (d) => storage.opLog.partitionFor(d),
      offsetsForTime: (t) => storage.opLog.offsetsForTime(t),
      endOffsets: () => storage.opLog.endOffsets(),
      read: (partition, from) =>
        (async function* () {
          for await (const batch of storage.opLog.read(partition, from, { batchSize: 4 })) {
            readPast += batch.filter((r) => r.offset >= stops[partition]!).length;
            yield batch;
          }
        })(),
    };
    const out = join(dir, 'until.ndjson');
    await runExport({ ...source(), log: counting }, request({ until, out }), options(dir));
    assert.deepEqual(sorted(readNdjson(out)), sorted(all.filter((o) => o.timestamp < until)));
    assert.ok(
      stops.every((s, p) => s < ends[p]!),
      `the test needs records after the stop: ${stops} of ${ends}`,
    );
    // The batch of 4 that reaches the stop offset is read in each partition; nothing after it.
    assert.ok(readPast <= 4 * PARTITIONS, `${readPast} records read past the stop offsets ${stops}`);
  });

  it('a time range is an offset range: an op stamped out of order goes with its place in the log, once', async () => {
    // A new owner whose clock is behind the previous one's: d0's next op is stamped before ops already in the log.
    const d0 = all.filter((o) => o.docId === 'd0');
    const late: OpCommitted = {
      ...d0[d0.length - 1]!,
      version: 41,
      baseVersion: 40,
      seq: 41,
      op: [40, 'z'],
      timestamp: T0 + 10 * MINUTE,
    };
    const writer = await storage.opLog.openWriter(storage.opLog.partitionFor('d0'));
    await writer.append([{ value: late }]);
    await writer.close();
    const cut = [T0, T0 + 10 * MINUTE + 1, T0 + 5000 * MINUTE];
    const windows: OpCommitted[][] = [];
    for (let i = 0; i + 1 < cut.length; i++) {
      const out = join(dir, `skew${i}.ndjson`);
      await runExport(source(), request({ since: cut[i]!, until: cut[i + 1]!, out }), options(dir));
      windows.push(readNdjson(out));
    }
    // Stamped inside the first window, but after entries stamped later than its end: it belongs to the second.
    assert.ok(windows[1]!.some((o) => key(o) === key(late)));
    assert.ok(!windows[0]!.some((o) => key(o) === key(late)));
    assert.deepEqual(sorted(windows.flat()), sorted([...all, late]));
  });

  it('an offset range per partition, with documents', async () => {
    const out = join(dir, 'range.ndjson');
    await runExport(
      source(),
      request({ docs: ['d0', 'd1', 'd2', 'd4'], fromOffsets: new Map([[0, 5n]]), toOffsets: new Map([[0, 30n]]), out }),
      options(dir),
    );
    const expected: OpCommitted[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for await (const batch of storage.opLog.read(p, 0n)) {
        for (const r of batch) {
          const op = r.value as OpCommitted;
          if (op.docId === 'd3' || (p === 0 && (r.offset < 5n || r.offset >= 30n))) continue;
          expected.push(op);
        }
      }
    }
    assert.deepEqual(sorted(readNdjson(out)), sorted(expected));
  });

  for (const [format, codec] of [
    ['ndjson', 'null'],
    ['avro', 'snappy'],
    ['avro', 'deflate'],
    ['parquet', 'snappy'],
  ] as const) {
    it(`${format} (${codec}): aborted mid-way, then --resume: every op exactly once`, async () => {
      const out = join(dir, `all.${format}`);
      const req = request({ format, codec, out });
      await assert.rejects(
        runExport({ ...source(), log: failingAfter(storage.opLog, 20) }, req, options(dir)),
        /the log went away/,
      );
      const cp = readCheckpoint(join(dir, 'out.checkpoint.json'));
      assert.ok(cp !== undefined && cp.records > 0 && cp.records < all.length, `checkpoint ${cp?.records}`);
      // Without --resume the checkpoint is in the way; with a different request, --resume refuses.
      await assert.rejects(runExport(source(), req, options(dir)), /--resume/);
      await assert.rejects(
        runExport(source(), { ...req, since: T0 }, options(dir, { resume: true })),
        /another export \(since differs\)/,
      );
      const summary = await runExport(source(), req, options(dir, { resume: true }));
      assert.match(summary, new RegExp(`exported ${all.length} op\\(s\\) of the stream .*\\(resumed\\)`));
      let got: OpCommitted[];
      if (format === 'ndjson') got = readNdjson(out);
      else if (format === 'avro') {
        const file = await readAvro(out);
        assert.equal(file.codec, codec);
        got = file.ops;
      } else {
        const rows = await readParquet(out);
        got = rows.map((r) => ({
          docId: r.docId as string,
          version: Number(r.version),
          op: JSON.parse(JSON.stringify(r.op)) as OpCommitted['op'],
          baseVersion: Number(r.baseVersion),
          clientId: r.clientId as string,
          seq: Number(r.seq),
          userId: r.userId as string,
          timestamp: (r.timestamp as Date).getTime(),
        }));
      }
      assert.equal(got.length, all.length);
      assert.deepEqual(sorted(got), sorted(all));
      const byKey = new Map(all.map((o) => [key(o), o]));
      for (const op of got) assert.deepEqual(op, byKey.get(key(op)));
    });
  }

  it('a checkpoint that is not one, and an output shorter than its checkpoint, fail with ERR_CORRUPT', async () => {
    const path = join(dir, 'out.checkpoint.json');
    writeFileSync(path, '{"format": 1, "output": {"bytes": -3}}');
    assert.throws(() => readCheckpoint(path), /is not an export checkpoint/);
    rmSync(path);
    const out = join(dir, 'short.ndjson');
    const req = request({ out });
    await assert.rejects(runExport({ ...source(), log: failingAfter(storage.opLog, 20) }, req, options(dir)));
    writeFileSync(out, 'x'); // the file lost what the checkpoint counted
    await assert.rejects(runExport(source(), req, options(dir, { resume: true })), (err: unknown) => {
      assert.ok(isCollabError(err) && err.code === 'ERR_CORRUPT', String(err));
      assert.match(err.message, /it has 1 bytes, fewer than the \d+ its checkpoint counted/);
      return true;
    });
  });

  it('skips records that are not ops (comment events) instead of failing', async () => {
    const docId = 'd1';
    const writer = await storage.opLog.openWriter(storage.opLog.partitionFor(docId));
    await writer.append([
      {
        value: {
          docId,
          version: 40,
          userId: 'u',
          timestamp: T0 + 999 * MINUTE,
          body: { kind: 'resolved', threadId: 't1' },
        },
      },
    ]);
    await writer.close();
    const out = join(dir, 'd1.ndjson');
    await runExport(source(), request({ docs: [docId], out }), options(dir));
    assert.equal(readNdjson(out).length, 40);
  });

  it('--comments: comment events in NDJSON, Avro and Parquet, each record with its kind', async () => {
    const docId = 'd1';
    const events: CommentEvent[] = [
      {
        docId,
        version: 40,
        userId: 'ann',
        timestamp: T0 + 998 * MINUTE,
        body: {
          kind: 'created',
          threadId: 't1',
          messageId: 'm1',
          anchor: { start: 1, end: 3, detached: false },
          text: 'why?',
        },
      },
      { docId, version: 40, userId: 'bob', timestamp: T0 + 999 * MINUTE, body: { kind: 'resolved', threadId: 't1' } },
    ];
    const writer = await storage.opLog.openWriter(storage.opLog.partitionFor(docId));
    await writer.append(events.map((value) => ({ value })));
    await writer.close();
    const ops = all.filter((o) => o.docId === docId);

    const ndjson = join(dir, 'c.ndjson');
    const summary = await runExport(source(), request({ docs: [docId], out: ndjson, comments: true }), options(dir));
    assert.match(summary, /exported 40 op\(s\) of d1 \(versions 1\.\.40\) and 2 comment event\(s\) as ndjson/);
    assert.deepEqual(
      readFileSync(ndjson, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as unknown),
      [...ops.map((o) => ({ kind: 'op', ...o })), ...events.map((e) => ({ kind: 'comment', ...e }))],
    );

    const avroOut = join(dir, 'c.avro');
    await runExport(source(), request({ docs: [docId], out: avroOut, format: 'avro', comments: true }), options(dir));
    const records: { kind: string; op: unknown; comment: Record<string, unknown> | null }[] = [];
    await new Promise<void>((resolve, reject) =>
      avro
        .createFileDecoder(avroOut, { codecs: avroDecoderCodecs })
        .on('data', (r: (typeof records)[number]) => records.push(r))
        .on('end', resolve)
        .on('error', reject),
    );
    assert.deepEqual(
      records.map((r) => r.kind),
      [...ops.map(() => 'op'), 'comment', 'comment'],
    );
    assert.deepEqual(
      records.slice(0, 40).map((r) => fromAvro(r.op as Parameters<typeof fromAvro>[0])),
      ops,
    );
    assert.ok(records.slice(0, 40).every((r) => r.comment === null));
    const [created, resolved] = records.slice(40);
    assert.equal(created!.op, null);
    assert.deepEqual(
      { ...created!.comment, body: JSON.parse(JSON.stringify(created!.comment!.body)) as unknown },
      {
        docId,
        version: 40,
        userId: 'ann',
        timestamp: T0 + 998 * MINUTE,
        body: {
          'collab.comments.Created': {
            threadId: 't1',
            messageId: 'm1',
            anchor: { start: 1, end: 3, detached: false },
            text: 'why?',
          },
        },
      },
    );
    assert.deepEqual(JSON.parse(JSON.stringify(resolved!.comment!.body)), {
      'collab.comments.ThreadChanged': { threadId: 't1', kind: 'resolved' },
    });

    const parquetOut = join(dir, 'c.parquet');
    await runExport(
      source(),
      request({ docs: [docId], out: parquetOut, format: 'parquet', codec: 'snappy', comments: true }),
      options(dir),
    );
    const rows = await readParquet(parquetOut);
    assert.deepEqual(
      rows.map((r) => r.kind),
      [...ops.map(() => 'op'), 'comment', 'comment'],
    );
    assert.deepEqual(rows[40], {
      kind: 'comment',
      docId,
      version: 40n,
      op: null,
      baseVersion: null,
      clientId: null,
      seq: null,
      userId: 'ann',
      timestamp: new Date(T0 + 998 * MINUTE),
      comment: events[0]!.body,
    });
    assert.deepEqual(rows[0], {
      kind: 'op',
      docId,
      version: 1n,
      op: ops[0]!.op,
      baseVersion: 0n,
      clientId: ops[0]!.clientId,
      seq: BigInt(ops[0]!.seq),
      userId: ops[0]!.userId,
      timestamp: new Date(ops[0]!.timestamp),
      comment: null,
    });
  });

  it('a version gap fails with ERR_CORRUPT', async () => {
    const writer = await storage.opLog.openWriter(storage.opLog.partitionFor('d2'));
    await writer.append([{ value: { ...all.find((o) => o.docId === 'd2')!, version: 42 } }]);
    await writer.close();
    const out = join(dir, 'gap.ndjson');
    writeFileSync(out, '');
    await assert.rejects(runExport(source(), request({ docs: ['d2'], out }), options(dir)), (err: unknown) => {
      assert.ok(isCollabError(err) && err.code === 'ERR_CORRUPT', String(err));
      assert.match(err.message, /d2: a version gap in the log: expected version 41, found 42/);
      return true;
    });
  });
});
