/**
 * The document hub under the failures the chaos run found, on the embedded mode's SQLite log.
 *
 * 1. An owner whose writer a newer owner has fenced stops sequencing the partition at once, instead of waiting for
 * its consumer group to say so. Found by the 15-minute chaos run (seed 7): an instance cut off from the brokers
 * lost its partitions to the other instance, and until its own group membership caught up (tens of seconds under
 * overlapping faults) every document of those partitions reloaded from the log, was handed the same fenced
 * writer again, failed its next append, and reloaded again ("reloading document from the log: fenced by a newer
 * owner", up to 23 times a minute per document); its submits bounced back as ERR_NOT_OWNER instead of going to
 * the new owner, and opens waited behind the reloads. Now the fenced committer marks the partition lost: the
 * documents reload once, as replicas, and their submits are forwarded; when the partition is assigned here again,
 * a new writer is opened (before, the fenced one was kept, and nothing could be appended any more).
 *
 * The SQLite log's writers are fenced by an epoch exactly as Kafka's transactional ids are (a second `openWriter`
 * of the partition fences the first).
 *
 * 2. A document whose load fails (Kafka unreachable) while a session that was opening it disconnects: the
 * session's close awaited the failing load and rejected, and the transport does not await a disconnect, so the
 * rejection was unhandled and the process exited (command-2 in the same run, under a broker kill and a partition).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage, type SqliteStorage } from '@collab/adapter-sqlite';
import type { DocumentState, OpLog, Submission } from '@collab/core';
import { CollabError, DEFAULT_SUBMIT_LIMITS, isCollabError } from '@collab/core';
import type { ServerMessage } from '@collab/protocol';
import { DocumentHub } from '../src/documents/document-hub.js';
import type { Forwarder } from '../src/documents/forwarder.js';
import type { Subscriber, SubmitOutcome } from '../src/documents/document-channel.js';

const DOC = 'fenced-doc';

function logger(warnings: string[]) {
  const log = {
    info() {},
    debug() {},
    error() {},
    warn(_fields: unknown, msg?: string) {
      warnings.push(String(msg));
    },
    child: () => log,
  };
  return log as never;
}

const SETTINGS = {
  window: 100,
  catchupLimit: 100,
  maxCatchupBytes: 1 << 20,
  maxFrameBytes: 1 << 20,
  hashEvery: 0,
  limits: DEFAULT_SUBMIT_LIMITS,
  now: Date.now,
};

interface TempStorage {
  storage: SqliteStorage;
  /** Closes the storage and deletes its folder. */
  remove(): Promise<void>;
}

/** A SQLite storage of two partitions in a fresh folder. */
async function tempStorage(prefix: string): Promise<TempStorage> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const storage = await createSqliteStorage({ path: join(dir, 'log.db'), partitionCount: 2 });
  return {
    storage,
    async remove() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('document hub: a partition whose writer a newer owner fenced', () => {
  let dir: string;
  let storage: SqliteStorage;
  let hub: DocumentHub;
  const warnings: string[] = [];
  const forwarded: Submission[] = [];
  const delivered: ServerMessage[] = [];
  const alice: Subscriber = { id: 'alice', deliver: (m) => delivered.push(m) };
  let partition: number;

  const submission = (seq: number, baseVersion: number, op: unknown): Submission => ({
    docId: DOC,
    clientId: 'c',
    seq,
    baseVersion,
    op,
    userId: 'alice',
  });
  const reloads = () => warnings.filter((w) => w === 'reloading document from the log').length;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hub-fenced-'));
    storage = await createSqliteStorage({ path: join(dir, 'log.db'), partitionCount: 2 });
    const forwarder = {
      forward: async (s: Submission): Promise<SubmitOutcome> => {
        forwarded.push(s);
        return { version: -1, duplicate: false };
      },
      claim: () => [],
      abortAll: () => {},
      settleReply: () => {},
    } as unknown as Forwarder;
    hub = new DocumentHub(storage.opLog, SETTINGS, logger(warnings), undefined, forwarder);
    partition = storage.opLog.partitionFor(DOC);
    await hub.takeOwnership([0, 1]);
    await hub.open(alice, DOC);
  });

  after(async () => {
    await hub?.closeAll();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sequences while it owns the partition', async () => {
    assert.deepEqual(await hub.submit(alice, submission(1, 0, ['one'])), { version: 1, duplicate: false });
  });

  it('after a fenced append: the partition is not owned here any more; the document reloads once, as a replica, and its submits go to the owner', async () => {
    // A newer owner (as after a rebalance this instance has not heard of yet) opens the partition's writer.
    const usurper = await storage.opLog.openWriter(partition);
    // The submit's own append is fenced; the hub tries the reloaded channel, which forwards it.
    await hub.submit(alice, submission(2, 1, [3, ' two']));
    assert.equal(hub.owns(partition), false, 'a fenced writer is not ownership');
    assert.deepEqual(hub.ownedPartitions, [1 - partition]);
    for (let seq = 3; seq <= 6; seq++) await hub.submit(alice, submission(seq, 1, [3, '!']));
    assert.deepEqual(
      forwarded.map((s) => s.seq),
      [2, 3, 4, 5, 6],
      'every submit after the fence went to the owner',
    );
    assert.equal(reloads(), 1, `one reload, not one per submit: ${JSON.stringify(warnings)}`);
    await usurper.close();
  });

  it('assigned the partition again: a new writer is opened (fencing the other), and it sequences again', async () => {
    await hub.takeOwnership([partition]);
    assert.equal(hub.owns(partition), true);
    assert.deepEqual(await hub.submit(alice, submission(7, 1, [3, ' again'])), { version: 2, duplicate: false });
  });
});

describe('document hub: a load that fails while its opener goes away', () => {
  let temp: TempStorage;
  let storage: SqliteStorage;

  before(async () => {
    temp = await tempStorage('hub-failed-load-');
    storage = temp.storage;
  });
  after(() => temp?.remove());

  it('the close, a relayed record and a revocation resolve; the opener is told', async () => {
    let fail: ((err: Error) => void) | undefined;
    const load = (): Promise<DocumentState> =>
      new Promise((_, reject) => {
        fail = reject;
      });
    const hub = new DocumentHub(storage.opLog, SETTINGS, logger([]), load);
    const bob: Subscriber = { id: 'bob', deliver: () => {} };
    const opening = hub.open(bob, DOC);
    const opened = assert.rejects(opening, /Kafka unreachable/);
    // The connection drops while the document loads: its close waits for the load.
    const closed = hub.close(bob, DOC);
    const relayed = hub.applyCommitted({
      docId: DOC,
      version: 1,
      op: ['x'],
      baseVersion: 0,
      clientId: 'c',
      seq: 1,
      userId: 'u',
      timestamp: Date.now(),
    });
    const revoked = hub.releaseOwnership([storage.opLog.partitionFor(DOC)]);
    while (fail === undefined) await new Promise((resolve) => setImmediate(resolve));
    fail(new Error('Kafka unreachable'));
    await opened;
    await closed;
    await relayed;
    await revoked;
    assert.equal(hub.openDocuments, 0, 'nothing left of the failed load');
  });
});

describe('document hub: the writer of an assigned partition gave way', () => {
  let temp: TempStorage;
  let storage: SqliteStorage;
  beforeEach(async () => {
    temp = await tempStorage('hub-gave-way-');
    storage = temp.storage;
  });
  afterEach(() => temp?.remove());

  /** The log, but the first `refusals` openings are refused as fenced (another registration won a race). */
  const refusing = (refusals: number): OpLog => {
    let left = refusals;
    return Object.assign(Object.create(storage.opLog) as OpLog, {
      openWriter: (partition: number) =>
        left-- > 0
          ? Promise.reject(new CollabError('ERR_FENCED', 'another writer registered the id meanwhile'))
          : storage.opLog.openWriter(partition),
    });
  };

  it('tries again: the assigned owner ends up owning the partition', async () => {
    const warnings: string[] = [];
    const hub = new DocumentHub(refusing(2), SETTINGS, logger(warnings), undefined);
    await hub.takeOwnership([1]);
    assert.equal(hub.owns(1), true);
    assert.equal(warnings.filter((w) => w.includes('gave way')).length, 2);
    await hub.closeAll();
  });

  it('gives up after a few tries, and says so', async () => {
    const hub = new DocumentHub(refusing(100), SETTINGS, logger([]), undefined);
    await assert.rejects(hub.takeOwnership([1]), (err) => isCollabError(err, 'ERR_FENCED'));
    assert.equal(hub.owns(1), false);
    await hub.closeAll();
  });
});
