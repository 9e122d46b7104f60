/** The pure parts: chunking per document, the lag arithmetic, the rebuild CLI's arguments. No servers. */
import assert from 'node:assert/strict';
import type { ConsumerContext, LogRecord, OpCommitted, ReadModelStore, StoredCommentEvent } from '@collab/core';
import { CollabError, isCollabError, silentLogger } from '@collab/core';
import { opsTopicEnv } from '@collab/env-config';
import { parseRebuildArgs } from '../src/cli/rebuild-args.js';
import { createLagTracker } from '../src/lag.js';
import { chunkByDocument, commentEventsOf, createProjector } from '../src/projector.js';

const op = (docId: string, version: number, timestamp = 1_000): OpCommitted => ({
  docId,
  version,
  op: ['x'],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp,
});
const record = (offset: bigint, value: OpCommitted): LogRecord => ({ partition: 0, offset, value, headers: {} });

describe('chunkByDocument', function () {
  it('keeps each document whole and in version order, and packs documents up to the limit', function () {
    const ops = [op('a', 1), op('b', 1), op('a', 2), op('c', 1), op('b', 2), op('a', 3)];
    const chunks = chunkByDocument(ops, 4);
    assert.deepEqual(
      chunks.map((c) => c.map((o) => `${o.docId}${o.version}`)),
      [
        ['a1', 'a2', 'a3'],
        ['b1', 'b2', 'c1'],
      ],
    );
  });

  it('never splits a document bigger than the limit', function () {
    const ops = [1, 2, 3, 4, 5].map((v) => op('a', v));
    assert.deepEqual(
      chunkByDocument(ops, 2).map((c) => c.length),
      [5],
    );
  });
});

describe('lag tracker', function () {
  const at = (ends: bigint[], now = 10_000) => {
    const tracker = createLagTracker({ log: { endOffsets: async () => ends }, now: () => now });
    return tracker;
  };

  it('given a caught-up partition (only the last commit marker left), reports 0 ops and 0 s waiting', async function () {
    const tracker = at([11n]);
    tracker.assigned([0]);
    tracker.projected(0, record(9n, op('a', 10, 4_000)));
    await tracker.refresh();
    assert.deepEqual(tracker.snapshot(), [
      {
        partition: 0,
        endOffset: 11n,
        position: 10n,
        lagOps: 0,
        lastProjectedAgeSeconds: 6,
        oldestUnprojectedAgeSeconds: 0,
      },
    ]);
  });

  it('given one transaction of 5 ops behind, reports 5; with a batch in hand, the age of its first op', async function () {
    const tracker = at([16n]);
    tracker.assigned([0]);
    tracker.projected(0, record(9n, op('a', 10, 4_000)));
    await tracker.refresh();
    assert.equal(tracker.snapshot()[0]?.lagOps, 5);
    // No batch in hand: the last projected op's age bounds the wait from above.
    assert.equal(tracker.snapshot()[0]?.oldestUnprojectedAgeSeconds, 6);
    tracker.batchStarted(0, record(10n, op('a', 11, 7_000)));
    assert.equal(tracker.snapshot()[0]?.oldestUnprojectedAgeSeconds, 3);
  });

  it('uses the group committed offset for a partition with nothing projected here, and forgets revoked ones', async function () {
    const tracker = createLagTracker({
      log: { endOffsets: async () => [0n, 50n] },
      committedOffsets: async () => new Map([[1, 20n]]),
    });
    tracker.assigned([0, 1]);
    await tracker.refresh();
    assert.deepEqual(
      tracker.snapshot().map((l) => [l.partition, l.lagOps]),
      [
        [0, undefined],
        [1, 29],
      ],
    );
    tracker.revoked([1]);
    assert.deepEqual(
      tracker.snapshot().map((l) => l.partition),
      [0],
    );
  });
});

describe('rebuild CLI arguments', function () {
  const required = ['--brokers', 'k:9092', '--contact-points', 'c:9042', '--keyspace', 'collab_v2'];

  it('--help', function () {
    assert.deepEqual(parseRebuildArgs(['--help']), { kind: 'help' });
  });

  it('reports every problem at once', function () {
    const parsed = parseRebuildArgs(['--partitions', '0', '--from', '9=1']);
    assert.equal(parsed.kind, 'error');
    const message = parsed.kind === 'error' ? parsed.message : '';
    for (const expected of ['--brokers', '--contact-points', '--keyspace', '--partitions']) {
      assert.match(message, new RegExp(expected));
    }
  });

  it('parses offsets per partition, the others starting at 0', function () {
    const parsed = parseRebuildArgs([...required, '--partitions', '4', '--from', '1=100,3=7']);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind === 'run') {
      assert.deepEqual(parsed.options.from, [0n, 100n, 0n, 7n]);
      assert.deepEqual(parsed.options.cassandra.replication, {
        class: 'NetworkTopologyStrategy',
        dataCenters: { datacenter1: 3 },
      });
    }
  });

  it('defaults to the topic and partition count every service and `collab migrate` default to', function () {
    const parsed = parseRebuildArgs(required);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind === 'run') {
      assert.equal(parsed.options.kafka.partitions, opsTopicEnv.COLLAB_OPS_PARTITIONS.parse(undefined));
      assert.equal(parsed.options.kafka.topic, opsTopicEnv.COLLAB_OPS_TOPIC.parse(undefined));
    }
  });

  it('refuses to compare a keyspace with itself and rejects unknown flags', function () {
    assert.equal(parseRebuildArgs([...required, '--compare-with', 'collab_v2']).kind, 'error');
    assert.equal(parseRebuildArgs([...required, '--frm', '3']).kind, 'error');
  });
});

describe('projector: comment events', function () {
  const comment = (docId: string, version: number, offset: bigint): LogRecord => ({
    partition: 0,
    offset,
    headers: {},
    value: {
      docId,
      version,
      userId: 'u',
      timestamp: 1,
      body: { kind: 'resolved', threadId: `t${offset}` },
    },
  });
  const opRecord = (docId: string, version: number, offset: bigint): LogRecord => ({
    partition: 0,
    offset,
    headers: {},
    value: { docId, version, op: ['x'], baseVersion: 0, clientId: 'c', seq: version, userId: 'u', timestamp: 1 },
  });
  const batch = [opRecord('a', 1, 0n), comment('a', 1, 1n), comment('b', 0, 2n), opRecord('a', 2, 3n)];

  /** A store that records what it was asked to write, and fails comment writes while `failEvents` is set. */
  function recordingStore() {
    const written: { events: StoredCommentEvent[]; ops: OpCommitted[] } = { events: [], ops: [] };
    const store = {
      failEvents: false,
      writeOps: async (ops: readonly OpCommitted[]) => void written.ops.push(...ops),
      writeCommentEvents: async (events: readonly StoredCommentEvent[]) => {
        if (store.failEvents) throw new CollabError('ERR_INVALID_ARGUMENT', 'refused (test)');
        written.events.push(...events);
      },
    };
    return { store, written };
  }

  it('commentEventsOf: the events of a batch with their offsets, in log order', function () {
    assert.deepEqual(
      commentEventsOf(batch).map((e) => [e.event.docId, e.offset]),
      [
        ['a', 1n],
        ['b', 2n],
      ],
    );
  });

  it('writes the events and the ops of a batch, then checkpoints; an event write that fails checkpoints nothing', async function () {
    const { store, written } = recordingStore();
    const checkpoints: bigint[] = [];
    const projector = createProjector({ store: store as unknown as ReadModelStore, logger: silentLogger });
    const context = { partition: 0, checkpoint: (o: bigint) => void checkpoints.push(o) } as unknown as ConsumerContext;
    await projector(batch, context);
    assert.deepEqual(written.events, commentEventsOf(batch));
    assert.deepEqual(
      written.ops.map((o) => o.version),
      [1, 2],
    );
    assert.deepEqual(checkpoints, [3n]);
    store.failEvents = true;
    await assert.rejects(projector(batch, context), (err: unknown) => isCollabError(err, 'ERR_INVALID_ARGUMENT'));
    assert.deepEqual(checkpoints, [3n], 'no checkpoint past events not written');
  });
});
