/**
 * Durability across processes: (a) a child appending in a loop is killed with SIGKILL mid-stream, and the file,
 * reopened, holds every batch the child saw acknowledged, whole batches only, at offsets without gaps; (b) a
 * writer opened in this process fences the child's writer while the child is appending: its next append fails
 * with ERR_FENCED and nothing of it lands after our records.
 *
 * SIGKILL stops the process, not the machine: it shows atomic, crash-consistent commits and that an ack comes
 * only after the commit. What it cannot show is the fsync (power loss); that is what synchronous=FULL is for
 * (database.ts), and the storage test checks that setting.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isCollabError } from '@collab/core';
import { createSqliteStorage } from '../src/index.js';
import { PARTITION_COUNT } from './support/durability-settings.js';
import { docIn, input } from './support/ops.js';
import { useTempDir } from './support/temp-dir.js';

const script = fileURLToPath(new URL('./support/append-loop.ts', import.meta.url));

interface Ack {
  batch: number;
  first: bigint;
  last: bigint;
  version: number;
}

/** Start the child; `lines` yields what it prints, `exit` resolves with its exit code or signal. */
function startChild(path: string, partition: number, docId: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@collab/source', '--import', 'tsx', script, path, String(partition), docId],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, exit, lines };
}

const parseAck = (line: string): Ack => {
  const [kind, batch, first, last, version] = line.split(' ');
  assert.equal(kind, 'ack', `unexpected line from the child: ${line}`);
  return { batch: Number(batch), first: BigInt(first!), last: BigInt(last!), version: Number(version) };
};

interface Row {
  record_offset: number;
  version: number;
  headers: string;
}

describe('SQLite op log durability across processes', function () {
  this.timeout(60_000);
  const temp = useTempDir('durability');

  it('(a) keeps every acknowledged batch, whole, without offset gaps, when the writer is SIGKILLed mid-stream', async () => {
    const path = temp.path('sigkill');
    const setup = await createSqliteStorage({ path, partitionCount: PARTITION_COUNT });
    const docId = docIn(setup.opLog, 2, 'killed');
    await setup.close();

    const { child, exit, lines } = startChild(path, 2, docId);
    const acks: Ack[] = [];
    assert.equal((await lines.next()).value, 'ready');
    // Wait for a few hundred acknowledged batches, then kill while it keeps appending.
    while (acks.length < 300) {
      const next = await lines.next();
      if (next.done === true) assert.fail(`the child ended early: ${(await exit).stderr}`);
      acks.push(parseAck(next.value as string));
    }
    child.kill('SIGKILL');
    const ended = await exit;
    assert.equal(ended.signal, 'SIGKILL');

    const db = new Database(path); // opening runs WAL recovery, as the next start of the service would
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const rows = db
        .prepare(
          'SELECT record_offset, version, headers FROM log_records WHERE partition_id = 2 ORDER BY record_offset',
        )
        .all() as Row[];
      const end = (
        db.prepare('SELECT next_offset FROM log_partitions WHERE partition_id = 2').get() as {
          next_offset: number;
        }
      ).next_offset;
      assert.equal(end, rows.length, 'the end offset counts exactly the stored records');
      rows.forEach((row, i) => {
        assert.equal(row.record_offset, i, 'offsets 0, 1, 2, ... without gaps');
        assert.equal(row.version, i + 1, 'versions in order, nothing lost in between');
      });
      // Every acknowledged batch is there, at the offsets the child was given.
      const lastAck = acks[acks.length - 1]!;
      assert.ok(
        rows.length >= Number(lastAck.last) + 1,
        `${rows.length} records, but offset ${lastAck.last} was acked`,
      );
      for (const ack of acks) {
        assert.equal(rows[Number(ack.last)]?.version, ack.version, `acked batch ${ack.batch}`);
      }
      // No partial transaction: each batch's records are all present (the last one included).
      const counts = new Map<string, { size: number; seen: number }>();
      for (const row of rows) {
        const { batch, size } = JSON.parse(row.headers) as { batch: string; size: string };
        const entry = counts.get(batch) ?? { size: Number(size), seen: 0 };
        entry.seen++;
        counts.set(batch, entry);
      }
      for (const [batch, { size, seen }] of counts) assert.equal(seen, size, `batch ${batch} is whole`);
    } finally {
      db.close();
    }
  });

  it('(b) fences a writer in another process while it appends: it fails ERR_FENCED and appends nothing after ours', async () => {
    const path = temp.path('fence');
    const storage = await createSqliteStorage({ path, partitionCount: PARTITION_COUNT });
    try {
      const docId = docIn(storage.opLog, 1, 'fenced');
      const { exit, lines } = startChild(path, 1, docId);
      assert.equal((await lines.next()).value, 'ready');
      let lastAck: Ack | undefined;
      for (let i = 0; i < 20; i++) lastAck = parseAck((await lines.next()).value as string);
      assert.ok(lastAck !== undefined);

      const ours = await storage.opLog.openWriter(1); // the child is still appending
      const [mine] = await ours.append([input(docId, 1_000_000, { writer: 'parent' })]);

      const rest: string[] = [];
      for (let next = await lines.next(); next.done !== true; next = await lines.next())
        rest.push(next.value as string);
      const ended = await exit;
      assert.equal(ended.code, 3, `the child should exit 3 on ERR_FENCED: ${ended.stderr}`);
      assert.equal(rest[rest.length - 1], 'fenced ERR_FENCED');

      const records = [];
      for await (const batch of storage.opLog.read(1, 0n)) records.push(...batch);
      const parentAt = records.findIndex((r) => r.headers.writer === 'parent');
      assert.equal(records[parentAt]?.offset, mine);
      assert.equal(parentAt, records.length - 1, 'nothing of the fenced child after our record');
      records.forEach((r, i) => assert.equal(r.offset, BigInt(i), 'dense offsets'));
      // Every batch the child saw acknowledged is before ours.
      const acked = [lastAck, ...rest.filter((l) => l.startsWith('ack ')).map(parseAck)];
      for (const ack of acked) assert.ok(ack.last < mine!, `child batch ${ack.batch} at ${ack.last} is before ours`);
      await assert.rejects(
        (async () => {
          // And the fenced epoch stays fenced: a writer object from before ours cannot come back.
          const stale = await storage.opLog.openWriter(1);
          await storage.opLog.openWriter(1);
          await stale.append([input(docId, 1_000_001)]);
        })(),
        (err) => isCollabError(err, 'ERR_FENCED'),
      );
    } finally {
      await storage.close();
    }
  });
});
