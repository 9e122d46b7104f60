/**
 * The load path and the catch-up chain, given / when / then, on in-memory stand-ins for the log, the read models
 * and the snapshots: given what the projection has written and committed, when a document loads (or a client is
 * behind), then the state (or the ops) equals a replay of the whole log — whatever part the read side holds —,
 * and anything that does not add up falls back to the log or resyncs, never a state missing an op.
 */
import assert from 'node:assert/strict';
import type {
  DocHead,
  DocumentState,
  LogRecord,
  Offset,
  OpCommitted,
  OpLog,
  ReadModelStore,
  SnapshotData,
  SnapshotStore,
} from '@collab/core';
import { evolve, initialState, isCollabError, silentLogger } from '@collab/core';
import { generateHistory, rng } from '@collab/read-side/testing';
import { catchupMessages, missingBeforeWindow, PendingSubscriber } from '../src/documents/catchup.js';
import type { ServerMessage } from '@collab/protocol';
import type { SourceEvent } from '../src/documents/document-source.js';
import { collectRange, contiguousFrom, foldNewOps, snapshotBound } from '../src/documents/history-fold.js';
import { createLogSource } from '../src/documents/log-source.js';
import { guardedByProjectionSource, projectionOffsets } from '../src/documents/projection-offsets.js';
import { createReadSideSource } from '../src/documents/read-side-source.js';

const WINDOW = 10;

/** One partition holding the document's records interleaved with another document's. */
class FakeLog {
  readonly records: LogRecord[] = [];
  readFrom: Offset[] = [];
  readonly partitionCount = 1;
  partitionFor(): number {
    return 0;
  }
  append(value: OpCommitted): void {
    this.records.push({ partition: 0, offset: BigInt(this.records.length), value, headers: {} });
  }
  async *read(_partition: number, from: Offset): AsyncIterable<LogRecord[]> {
    this.readFrom.push(from);
    const rest = this.records.filter((r) => r.offset >= from);
    for (let i = 0; i < rest.length; i += 7) yield rest.slice(i, i + 7);
  }
  /** The offset of the record of `docId` at `version`. */
  offsetOf(docId: string, version: number): Offset {
    return this.records.find((r) => r.value.docId === docId && r.value.version === version)!.offset;
  }
}

class FakeReadModels {
  readonly ops = new Map<number, OpCommitted>();
  head: number | undefined;
  down = false;
  write(ops: readonly OpCommitted[]): void {
    for (const op of ops) this.ops.set(op.version, op);
    this.head = Math.max(this.head ?? 0, ...ops.map((o) => o.version));
  }
  async getOps(_docId: string, from: number, to = Infinity, limit = Infinity): Promise<OpCommitted[]> {
    if (this.down) throw new Error('Cassandra is down');
    const end = to === Infinity && this.head !== undefined ? this.head + 1 : to;
    return [...this.ops.values()]
      .filter((o) => o.version >= from && o.version < end)
      .sort((a, b) => a.version - b.version)
      .slice(0, limit);
  }
  async getHead(docId: string): Promise<DocHead | undefined> {
    if (this.down) throw new Error('Cassandra is down');
    return this.head === undefined ? undefined : { docId, version: this.head, length: 0, lastUserId: '', updatedAt: 0 };
  }
}

class FakeSnapshots {
  readonly list: SnapshotData[] = [];
  async latest(_docId: string, maxVersion = Infinity): Promise<SnapshotData | undefined> {
    return this.list.filter((s) => s.version <= maxVersion).sort((a, b) => b.version - a.version)[0];
  }
}

const DOC = 'doc-a';
const history = generateHistory(DOC, 120, rng(7));
const other = generateHistory('doc-b', 120, rng(8));

/** The log: doc-a's 120 ops, each followed by one of doc-b's. */
function givenLog(): FakeLog {
  const log = new FakeLog();
  history.ops.forEach((op, i) => {
    log.append(op);
    log.append(other.ops[i]!);
  });
  return log;
}

function replay(ops: readonly OpCommitted[], window = WINDOW): DocumentState {
  let state = initialState(DOC);
  for (const op of ops) state = evolve(state, op, window);
  return state;
}

function assertSameState(actual: DocumentState, expected: DocumentState): void {
  assert.equal(actual.version, expected.version);
  assert.equal(actual.doc.toString(), expected.doc.toString());
  assert.deepEqual(
    actual.recent.map((r) => r.version),
    expected.recent.map((r) => r.version),
    'the window holds the last ops',
  );
}

function source(
  log: FakeLog,
  readModels: FakeReadModels,
  committed: Offset | undefined,
  snapshots = new FakeSnapshots(),
  events: SourceEvent[] = [],
) {
  return createReadSideSource({
    log: log as unknown as OpLog,
    readModels: readModels as unknown as ReadModelStore,
    snapshots: snapshots as unknown as SnapshotStore,
    committedOffset: async () => committed,
    window: WINDOW,
    pageSize: 16,
    logger: silentLogger,
    onEvent: (e) => events.push(e),
  });
}

const snapshotAt = (version: number): SnapshotData => ({
  docId: DOC,
  version,
  text: history.texts[version]!,
  createdAt: 0,
});

describe('command-service document source: pure merge logic', () => {
  it('foldNewOps skips versions already held (the same op from two sources) and stops at a gap', () => {
    const given = replay(history.ops.slice(0, 5));
    const when = foldNewOps(given, [...history.ops.slice(2, 8), history.ops[9]!], WINDOW);
    assert.equal(when.folded, 3, 'versions 6..8 folded, 3..5 skipped');
    assert.equal(when.state.version, 8);
    assert.deepEqual(when.gap, { expected: 9, got: 10 });
    assert.equal(when.state.doc.toString(), history.texts[8]);
  });

  it('foldNewOps ignores ops of other documents', () => {
    const when = foldNewOps(initialState(DOC), [other.ops[0]!, history.ops[0]!], WINDOW);
    assert.equal(when.state.version, 1);
    assert.equal(when.gap, undefined);
  });

  it('collectRange takes each version from whichever source has it, and refuses a range with a hole', () => {
    const rm = history.ops.slice(0, 10);
    const tail = history.ops.slice(8, 20);
    assert.deepEqual(
      collectRange(5, 15, [rm, tail])?.map((o) => o.version),
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    );
    assert.equal(collectRange(5, 15, [rm, history.ops.slice(11, 20)]), undefined, 'version 11 is nowhere');
    assert.deepEqual(collectRange(7, 6, []), []);
  });

  it('contiguousFrom keeps the gapless run from the first version asked for', () => {
    const ops = [...history.ops.slice(3, 7), ...history.ops.slice(8, 10)];
    assert.deepEqual(
      contiguousFrom(4, ops).map((o) => o.version),
      [4, 5, 6, 7],
    );
    assert.deepEqual(contiguousFrom(3, ops), [], 'version 3 is not there');
  });

  it('snapshotBound leaves a whole window of ops to fold after the snapshot', () => {
    assert.equal(snapshotBound(1500, 200), 1300);
    assert.equal(snapshotBound(150, 200), 0);
  });
});

describe('command-service document source: load from snapshot + read models + log tail', () => {
  const full = replay(history.ops);

  it('given a snapshot and read models up to the committed offset, the load reads only the tail after it', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 80));
    const snapshots = new FakeSnapshots();
    snapshots.list.push(snapshotAt(50), snapshotAt(115));
    const committed = log.offsetOf(DOC, 80) + 2n; // doc-a 80 and doc-b 80 projected
    const events: SourceEvent[] = [];
    const state = await source(log, rm, committed, snapshots, events).load(DOC);
    assertSameState(state, full);
    assert.deepEqual(log.readFrom, [committed], 'Kafka read once, from the committed offset');
    const [event] = events;
    assert.equal(event?.kind, 'load');
    if (event?.kind !== 'load') return;
    assert.equal(event.source, 'read-side');
    // The snapshot at 115 is above 120 - window: it would leave the window short. 50 is the one to start from.
    assert.equal(event.snapshotVersion, 50);
    assert.equal(event.readModelOps, 30, 'versions 51..80');
    assert.equal(event.logOps, 40, 'versions 81..120');
    assert.equal(event.logRecordsScanned, log.records.length - Number(committed));
  });

  it('given read models ahead of the committed offset, the overlap is folded once', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 100));
    const committed = log.offsetOf(DOC, 60);
    const events: SourceEvent[] = [];
    assertSameState(await source(log, rm, committed, new FakeSnapshots(), events).load(DOC), full);
    const event = events[0]!;
    assert.equal(event.kind === 'load' && event.source, 'read-side');
    assert.equal(event.kind === 'load' && event.readModelOps, 59, 'up to the first op of the tail');
    assert.equal(event.kind === 'load' && event.logOps, 61);
  });

  it('given a snapshot newer than the read models, the load starts from it and takes the rest from the tail', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 40));
    const snapshots = new FakeSnapshots();
    snapshots.list.push(snapshotAt(100));
    const committed = log.offsetOf(DOC, 41);
    const events: SourceEvent[] = [];
    assertSameState(await source(log, rm, committed, snapshots, events).load(DOC), full);
    const event = events[0]!;
    assert.equal(event.kind === 'load' && event.snapshotVersion, 100);
    assert.equal(event.kind === 'load' && event.readModelOps, 0);
  });

  it('given a document never projected, it loads from the tail alone', async () => {
    const log = givenLog();
    const events: SourceEvent[] = [];
    assertSameState(await source(log, new FakeReadModels(), 0n, new FakeSnapshots(), events).load(DOC), full);
    assert.equal(events[0]?.kind === 'load' && events[0].source, 'read-side');
  });

  it('given a new document (nothing anywhere), it loads empty at version 0', async () => {
    const log = new FakeLog();
    log.append(other.ops[0]!);
    const state = await source(log, new FakeReadModels(), 1n).load(DOC);
    assert.equal(state.version, 0);
    assert.equal(state.doc.toString(), '');
  });

  it('given read models missing ops below the committed offset (a hole), it falls back to the whole log', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write([...history.ops.slice(0, 30), ...history.ops.slice(31, 80)]);
    const events: SourceEvent[] = [];
    assertSameState(await source(log, rm, log.offsetOf(DOC, 81), new FakeSnapshots(), events).load(DOC), full);
    const event = events.at(-1);
    assert.equal(event?.kind === 'load' && event.source, 'log');
  });

  it('given read models whose head is above their last op, it falls back rather than trust the head', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 50));
    rm.head = 119;
    const events: SourceEvent[] = [];
    assertSameState(
      await source(log, rm, log.records.at(-1)!.offset + 1n, new FakeSnapshots(), events).load(DOC),
      full,
    );
    const event = events.at(-1)!;
    assert.equal(event.kind === 'load' && event.source, 'log');
    assert.match(event.kind === 'load' ? (event.fallback ?? '') : '', /head is 119/);
  });

  it('given the read models down or no committed offset, it falls back to the whole log', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops);
    rm.down = true;
    const events: SourceEvent[] = [];
    assertSameState(await source(log, rm, 10n, new FakeSnapshots(), events).load(DOC), full);
    assert.match((events[0]?.kind === 'load' && events[0].fallback) || '', /Cassandra is down/);
    assertSameState(await source(log, new FakeReadModels(), undefined, new FakeSnapshots(), events).load(DOC), full);
    assert.match((events[1]?.kind === 'load' && events[1].fallback) || '', /committed no offset/);
  });

  it('the log source loads by scanning the partition from offset 0', async () => {
    const log = givenLog();
    assertSameState(await createLogSource({ log: log as unknown as OpLog, window: WINDOW }).load(DOC), full);
    assert.deepEqual(log.readFrom, [0n]);
  });
});

describe('command-service document source: ops older than the window, for catch-up', () => {
  it('given read models holding them, they come from the read models and Kafka is not read', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops);
    const events: SourceEvent[] = [];
    const ops = await source(log, rm, log.offsetOf(DOC, 120) + 2n, new FakeSnapshots(), events).opsBetween(DOC, 21, 90);
    assert.deepEqual(ops, history.ops.slice(20, 90));
    assert.deepEqual(log.readFrom, []);
    assert.equal(events[0]?.kind === 'catchup' && events[0].readModelOps, 70);
  });

  it('given read models lagging, the rest comes from Kafka after the committed offset', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 50));
    const committed = log.offsetOf(DOC, 51);
    const events: SourceEvent[] = [];
    const ops = await source(log, rm, committed, new FakeSnapshots(), events).opsBetween(DOC, 21, 90);
    assert.deepEqual(ops, history.ops.slice(20, 90));
    assert.deepEqual(log.readFrom, [committed]);
    const event = events[0]!;
    assert.equal(event.kind === 'catchup' && event.readModelOps, 30);
    assert.equal(event.kind === 'catchup' && event.logOps, 40);
  });

  it('given the read models down, the whole range comes from the log from offset 0', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.down = true;
    const ops = await source(log, rm, log.offsetOf(DOC, 51)).opsBetween(DOC, 21, 90);
    assert.deepEqual(ops, history.ops.slice(20, 90));
    assert.deepEqual(log.readFrom, [0n]);
  });

  it('given read models lacking ops below the committed offset, it reads the whole log rather than fail', async () => {
    const log = givenLog();
    const rm = new FakeReadModels();
    rm.write(history.ops.slice(0, 30));
    const ops = await source(log, rm, log.offsetOf(DOC, 60)).opsBetween(DOC, 21, 90);
    assert.deepEqual(ops, history.ops.slice(20, 90));
    assert.deepEqual(log.readFrom, [log.offsetOf(DOC, 60), 0n]);
  });
});

describe('command-service catch-up messages', () => {
  const LIMIT = 50;
  const LIMITS = { catchupLimit: LIMIT, maxCatchupBytes: 1 << 20, maxFrameBytes: 1 << 20 };
  const state = replay(history.ops.slice(0, 100)); // window: versions 91..100

  it('given a client within the window, the missing ops come from memory alone', () => {
    assert.equal(missingBeforeWindow(state, 95, LIMIT), undefined);
    const [m] = catchupMessages(state, 95, LIMITS);
    assert.equal(m?.t, 'catchup');
    assert.deepEqual(m?.t === 'catchup' && m.ops.map((o) => o.version), [96, 97, 98, 99, 100]);
  });

  it('given a client behind the window but within the limit, the ops before the window are to be fetched', () => {
    assert.deepEqual(missingBeforeWindow(state, 60, LIMIT), { from: 61, to: 90 });
    assert.deepEqual(missingBeforeWindow(state, 60, LIMIT, history.ops.slice(60, 80)), { from: 81, to: 90 });
    const [m] = catchupMessages(state, 60, LIMITS, history.ops.slice(60, 90));
    assert.deepEqual(
      m?.t === 'catchup' && m.ops.map((o) => o.version),
      Array.from({ length: 40 }, (_, i) => 61 + i),
    );
  });

  it('given fetched ops that do not reach the window, the client resyncs with the whole text', () => {
    const messages = catchupMessages(state, 60, LIMITS, history.ops.slice(60, 85));
    assert.deepEqual(
      messages.map((m) => m.t),
      ['resync', 'snapshot'],
    );
  });

  it('given a client beyond the limit or ahead of the document, nothing is fetched and it resyncs', () => {
    assert.equal(missingBeforeWindow(state, 40, LIMIT), undefined);
    assert.deepEqual(
      catchupMessages(state, 40, LIMITS).map((m) => m.t),
      ['resync', 'snapshot'],
    );
    assert.equal(missingBeforeWindow(state, 101, LIMIT), undefined);
    assert.deepEqual(
      catchupMessages(state, 101, LIMITS).map((m) => m.t),
      ['resync', 'snapshot'],
    );
    assert.deepEqual(
      catchupMessages(state, undefined, LIMITS).map((m) => m.t),
      ['snapshot'],
    );
  });

  it('given the window moved on while older ops were read, the overlap is sent once and in order', () => {
    const later = replay(history.ops.slice(0, 104)); // window now 95..104; ops 61..90 were fetched before
    assert.deepEqual(missingBeforeWindow(later, 60, LIMIT, history.ops.slice(60, 90)), { from: 91, to: 94 });
    const [m] = catchupMessages(later, 60, LIMITS, history.ops.slice(60, 94));
    assert.deepEqual(
      m?.t === 'catchup' && m.ops.map((o) => o.version),
      Array.from({ length: 44 }, (_, i) => 61 + i),
    );
  });
});

describe('command-service catch-up: a subscriber waiting for its older ops', () => {
  const op = (version: number): ServerMessage => ({ ...wire(version), t: 'op', docId: DOC });
  const wire = (version: number) => {
    const { docId: _docId, baseVersion: _base, ...rest } = history.ops[version - 1]!;
    return rest;
  };
  const received = () => {
    const got: ServerMessage[] = [];
    return { got, subscriber: { id: 's1', deliver: (m: ServerMessage) => got.push(m) } };
  };

  it('given ops committed while the older ops are read, the catch-up goes first and they follow in order', () => {
    const { got, subscriber } = received();
    const pending = new PendingSubscriber(subscriber);
    pending.deliver(op(101));
    pending.deliver(op(102));
    assert.equal(got.length, 0, 'nothing reaches the client before its catch-up');
    const catchup: ServerMessage = { t: 'catchup', docId: DOC, version: 100, ops: [] };
    pending.release([catchup]);
    pending.deliver(op(103));
    assert.deepEqual(
      got.map((m) => (m.t === 'op' ? m.version : m.t)),
      ['catchup', 101, 102, 103],
    );
  });

  it('given a newer open of the same subscriber, the earlier one sends nothing at all', () => {
    const { got, subscriber } = received();
    const pending = new PendingSubscriber(subscriber);
    pending.deliver(op(101));
    pending.supersede();
    pending.deliver(op(102));
    pending.release([{ t: 'catchup', docId: DOC, version: 100, ops: [] }]);
    assert.deepEqual(got, []);
    assert.equal(pending.id, 's1');
  });
});

describe('command-service projection offsets', () => {
  it('shares one request among concurrent lookups, reuses it briefly, and maps "no offset" to undefined', async () => {
    let calls = 0;
    let t = 0;
    const admin = {
      fetchOffsets: async () => {
        calls++;
        return [
          {
            topic: 'ops',
            partitions: [
              { partition: 0, offset: '42' },
              { partition: 1, offset: '-1' },
            ],
          },
        ];
      },
    };
    const offsets = projectionOffsets(admin, 'group', 'ops', 1_000, () => t);
    assert.deepEqual(await Promise.all([offsets(0), offsets(1), offsets(2)]), [42n, undefined, undefined]);
    assert.equal(calls, 1);
    t = 1_500;
    assert.equal(await offsets(0), 42n);
    assert.equal(calls, 2);
  });

  it('does not keep a failed lookup', async () => {
    let fail = true;
    const admin = {
      fetchOffsets: async () => {
        if (fail) throw new Error('coordinator not available');
        return [{ topic: 'ops', partitions: [{ partition: 0, offset: '7' }] }];
      },
    };
    const offsets = projectionOffsets(admin, 'group', 'ops', 60_000, () => 0);
    await assert.rejects(offsets(0), /coordinator/);
    fail = false;
    assert.equal(await offsets(0), 7n);
  });
});

describe('command-service document source: the projection source guard', () => {
  /** A keyspace whose claim the test sets, counting how often it is asked; offsets 100 + partition. */
  function guarded(claims: (string | undefined | Error)[], recheckMs = 5_000, confirmed = false) {
    let t = 0;
    let asked = 0;
    const guard = guardedByProjectionSource(
      async () => {
        const claim = claims[Math.min(asked++, claims.length - 1)];
        if (claim instanceof Error) throw claim;
        return claim;
      },
      'group-a',
      async (partition) => 100n + BigInt(partition),
      { recheckMs, now: () => t, confirmed },
    );
    return { guard, asked: () => asked, advance: (ms: number) => (t += ms) };
  }

  it('given the keyspace claimed by our group, passes the offsets through and stops asking', async () => {
    const g = guarded(['group-a']);
    assert.equal(await g.guard(3), 103n);
    g.advance(60_000);
    assert.equal(await g.guard(4), 104n);
    assert.equal(g.asked(), 1);
  });

  it('given the claim already seen at start-up, never asks', async () => {
    const g = guarded(['group-b'], 5_000, true);
    assert.equal(await g.guard(2), 102n);
    assert.equal(g.asked(), 0);
  });

  it('given an unclaimed keyspace, reports no committed offset (whole-log loads) and asks again later', async () => {
    const g = guarded([undefined, 'group-a']);
    assert.equal(await g.guard(0), undefined);
    g.advance(1_000);
    assert.equal(await g.guard(0), undefined, 'the answer is reused within recheckMs');
    assert.equal(g.asked(), 1);
    g.advance(5_000);
    assert.equal(await g.guard(0), 100n, 'claimed since');
    assert.equal(g.asked(), 2);
  });

  it('given another group, rejects with ERR_CONFLICT naming both groups', async () => {
    const g = guarded(['group-b']);
    await assert.rejects(
      g.guard(0),
      (err) => isCollabError(err, 'ERR_CONFLICT') && /group-b/.test(err.message) && /group-a/.test(err.message),
    );
  });

  it('does not keep a failed lookup', async () => {
    const g = guarded([new Error('cassandra down'), 'group-a']);
    await assert.rejects(g.guard(0), /cassandra down/);
    assert.equal(await g.guard(0), 100n);
  });
});
