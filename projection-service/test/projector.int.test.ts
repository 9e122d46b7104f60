/**
 * The projector against the real Cassandra store, given/when/then, with batches shaped as the consumer hands
 * them over (records of one partition, offset order). Failures are injected by wrapping the real store.
 */
import assert from 'node:assert/strict';
import {
  CollabError,
  isCommentEvent,
  type ConsumerContext,
  type LogRecord,
  type LogValue,
  type Offset,
  type ReadModelStore,
} from '@collab/core';
import type { Client } from 'cassandra-driver';
import pino from 'pino';
import { createProjector } from '../src/projector.js';
import { generateOps } from './support/ops.js';
import {
  connectCassandra,
  countStoredOps,
  dropKeyspace,
  dumpKeyspace,
  freshKeyspaceName,
  freshStore,
} from './support/stack.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const FAST_RETRY = { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20 };

const asRecords = (values: ReturnType<typeof generateOps>['ops'], partition = 0, firstOffset = 0n): LogRecord[] =>
  values.map((value, i) => ({ partition, offset: firstOffset + BigInt(i), value, headers: {} }));

function recordingContext(partition = 0): ConsumerContext & { checkpoints: Offset[] } {
  const checkpoints: Offset[] = [];
  return { partition, checkpoints, checkpoint: (offset) => void checkpoints.push(offset) };
}

/** The real store, whose writeOps fails the first `times` calls with `error`. */
function failing(store: ReadModelStore, times: number, error: () => Error) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    store: {
      ...store,
      writeOps: async (ops) => {
        calls++;
        if (calls <= times) throw error();
        return store.writeOps(ops);
      },
    } satisfies ReadModelStore,
  };
}

describe('projector (on Cassandra)', function () {
  let client: Client;
  const keyspaces: string[] = [];
  const fresh = async () => {
    const keyspace = freshKeyspaceName();
    keyspaces.push(keyspace);
    return { keyspace, store: await freshStore(client, keyspace) };
  };

  before(async function () {
    ({ client } = await connectCassandra());
  });
  after(async function () {
    for (const k of keyspaces) await dropKeyspace(client, k);
    await client?.shutdown();
  });

  it('given a batch across documents, writes every op and head, then checkpoints the last offset once', async function () {
    const { store } = await fresh();
    const { ops, heads } = generateOps({ documents: 7, ops: 400, seed: 11 });
    const context = recordingContext(3);

    await createProjector({ store, logger, maxOpsPerWrite: 50 })(asRecords(ops, 3, 100n), context);

    assert.deepEqual(context.checkpoints, [499n]);
    for (const [docId, head] of heads) {
      assert.deepEqual(await store.getHead(docId), head);
      const stored = await store.getOps(docId, 1);
      assert.deepEqual(
        stored,
        ops.filter((o) => o.docId === docId),
      );
    }
  });

  it('given comment events between the ops (docs/comments.md), writes the ops alone and checkpoints past the events', async function () {
    const { store } = await fresh();
    const { ops, heads } = generateOps({ documents: 3, ops: 60, seed: 12 });
    const values: LogValue[] = [];
    for (const [i, op] of ops.entries()) {
      values.push(op);
      if (i % 7 === 0) {
        values.push({
          docId: op.docId,
          version: op.version,
          userId: 'u',
          timestamp: op.timestamp,
          body: { kind: 'created', threadId: `t${i}`, messageId: `m${i}`, anchor: { start: 0, end: 0 }, text: 'hm' },
        });
      }
    }
    assert.ok(values.some(isCommentEvent));
    const context = recordingContext(1);
    const records = values.map((value, i) => ({ partition: 1, offset: BigInt(i), value, headers: {} }));

    await createProjector({ store, logger, maxOpsPerWrite: 20 })(records, context);

    assert.deepEqual(context.checkpoints, [BigInt(records.length - 1)]);
    for (const [docId, head] of heads) {
      assert.deepEqual(await store.getHead(docId), head);
      assert.deepEqual(
        await store.getOps(docId, 1),
        ops.filter((o) => o.docId === docId),
      );
    }
  });

  it('given an empty batch, checkpoints nothing', async function () {
    const { store } = await fresh();
    const context = recordingContext();
    await createProjector({ store, logger })([], context);
    assert.deepEqual(context.checkpoints, []);
  });

  it('given a store that is briefly unavailable, retries and checkpoints once written', async function () {
    const { store } = await fresh();
    const { ops, heads } = generateOps({ documents: 3, ops: 60, seed: 12 });
    const flaky = failing(store, 2, () => new CollabError('ERR_UNAVAILABLE', 'cassandra down'));
    const context = recordingContext();

    await createProjector({ store: flaky.store, logger, retry: FAST_RETRY })(asRecords(ops), context);

    assert.equal(flaky.calls, 3);
    assert.deepEqual(context.checkpoints, [59n]);
    for (const [docId, head] of heads) assert.deepEqual(await store.getHead(docId), head);
  });

  it('given a store that stays down, surfaces the error without checkpointing; the redelivered batch completes the read model', async function () {
    const { store } = await fresh();
    const { ops, heads } = generateOps({ documents: 4, ops: 200, seed: 13 });
    // Half of the batch's documents get written before the outage hits the rest: a partial effect.
    const records = asRecords(ops);
    let calls = 0;
    const partial: ReadModelStore = {
      ...store,
      writeOps: async (chunk) => {
        if (calls++ === 0) return store.writeOps(chunk);
        throw new CollabError('ERR_TIMEOUT', 'write timed out');
      },
    };
    const context = recordingContext();

    await assert.rejects(
      createProjector({ store: partial, logger, retry: FAST_RETRY, maxOpsPerWrite: 50, writeConcurrency: 1 })(
        records,
        context,
      ),
      (err) => err instanceof CollabError && err.code === 'ERR_TIMEOUT',
    );
    assert.deepEqual(context.checkpoints, []);

    // The consumer redelivers the same batch (nothing was checkpointed).
    await createProjector({ store, logger })(records, context);
    assert.deepEqual(context.checkpoints, [199n]);
    for (const [docId, head] of heads) {
      assert.deepEqual(await store.getHead(docId), head);
      assert.equal((await store.getOps(docId, 1)).length, head.version);
    }
  });

  it('given a non-retriable store error, does not retry and does not checkpoint', async function () {
    const { store } = await fresh();
    const { ops } = generateOps({ documents: 2, ops: 10, seed: 14 });
    const broken = failing(store, Infinity, () => new CollabError('ERR_INVALID_ARGUMENT', 'bad op'));
    const context = recordingContext();

    await assert.rejects(
      createProjector({ store: broken.store, logger, retry: FAST_RETRY })(asRecords(ops), context),
      /bad op/,
    );
    assert.equal(broken.calls, 1);
    assert.deepEqual(context.checkpoints, []);
  });

  it('idempotence: replaying the same records twice, whole and in overlapping pieces, changes no row', async function () {
    const { keyspace, store } = await fresh();
    const { ops } = generateOps({ documents: 9, ops: 600, seed: 15 });
    const records = asRecords(ops);
    const project = createProjector({ store, logger, maxOpsPerWrite: 100 });

    await project(records, recordingContext());
    const once = await dumpKeyspace(client, keyspace);
    assert.equal(await countStoredOps(client, keyspace), 600);
    assert.deepEqual(once.ops, [], 'the 0001 ops table is not written');

    await project(records, recordingContext());
    // A redelivery after a crash overlaps what was written: later pieces first, then an overlapping earlier one.
    await project(records.slice(400), recordingContext());
    await project(records.slice(150, 450), recordingContext());
    assert.deepEqual(await dumpKeyspace(client, keyspace), once);
  });
});
