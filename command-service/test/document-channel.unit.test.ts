/**
 * The sequencer's pipeline, with a scripted partition writer: ops are decided as they arrive (on top of the ops
 * whose appends are still in flight), acks and ops go out in version order once durable, and a failed append
 * takes everything sequenced after it down with it — nothing that builds on a lost op ever reaches the log.
 */
import assert from 'node:assert/strict';
import type { AppendInput, OpCommitted, Submission } from '@collab/core';
import { CollabError, DEFAULT_SUBMIT_LIMITS, initialState } from '@collab/core';
import { DocumentChannel } from '../src/documents/document-channel.js';
import { PartitionCommitter } from '../src/documents/partition-committer.js';
import { Inbox, ScriptedWriter, settle } from './support/scripted-writer.js';

const submission = (clientId: string, seq: number, baseVersion: number, op: unknown): Submission => ({
  docId: 'doc',
  clientId,
  seq,
  baseVersion,
  op,
  userId: `user-${clientId}`,
});

function setup() {
  const writer = new ScriptedWriter();
  const committer = new PartitionCommitter(writer);
  const invalidated: string[] = [];
  const channel = new DocumentChannel(
    initialState('doc'),
    { window: 100, hashEvery: 0, limits: DEFAULT_SUBMIT_LIMITS, now: () => 1_000 },
    committer,
    (reason) => invalidated.push(reason),
  );
  const alice = new Inbox('alice');
  const bob = new Inbox('bob');
  channel.subscribers.set(alice.id, alice);
  channel.subscribers.set(bob.id, bob);
  return { writer, committer, channel, alice, bob, invalidated };
}

describe('DocumentChannel: the append pipeline', () => {
  it('given ownership released with an append in flight, when the relay brings that op first, then its landing settles it once', async () => {
    // Found by the chaos run (seed 7, 15 min): the command-service crashed with "expected version 691, got 690"
    // — the relay had applied the op from the log before its own append's landing tried to fold it again.
    const { writer, channel, alice, bob } = setup();
    const first = channel.submit(submission('a', 1, 0, ['hello']), alice);
    await settle();
    channel.committer = undefined; // released: a replica now, fed by the relay
    channel.applyRemote(writer.transactions[0]![0]!.value);
    assert.equal(channel.current.version, 1);
    await writer.land();
    const outcome = await Promise.race([
      first,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the submission never settled')), 2_000)),
    ]);
    assert.deepEqual(outcome, { version: 1, duplicate: false });
    assert.equal(channel.current.version, 1);
    assert.deepEqual(
      [alice, bob].map((inbox) => inbox.messages.map((m) => [m.t, 'version' in m ? m.version : undefined])),
      [[['op', 1]], [['op', 1]]],
      'every subscriber saw the op once (the relay sent it; the sender takes its own op as the ack)',
    );
  });

  it('given an append in flight, when more ops arrive, then they are sequenced at once and ride the next transaction', async () => {
    const { writer, channel, alice, bob } = setup();
    const first = channel.submit(submission('a', 1, 0, ['hello']), alice);
    await settle();
    const second = channel.submit(submission('a', 2, 1, [5, ' world']), alice);
    const third = channel.submit(submission('b', 1, 0, ['>']), bob); // concurrent with both: transformed on the head
    await settle();
    assert.deepEqual(writer.versions(), [[1]], 'one transaction at a time');
    assert.equal(alice.of('ack').length, 0, 'nothing is acked before it is durable');

    await writer.land();
    assert.deepEqual(await first, { version: 1, duplicate: false });
    assert.deepEqual(writer.versions(), [[1], [2, 3]], 'what arrived meanwhile goes out together');
    assert.deepEqual(
      writer.transactions[1]!.map((r) => (r.value as OpCommitted).op),
      [[5, ' world'], ['>']],
      "bob's insert at 0 needed no transform; it is decided on the head that holds alice's ops",
    );
    await writer.land();
    assert.deepEqual(await second, { version: 2, duplicate: false });
    assert.deepEqual(await third, { version: 3, duplicate: false });
    assert.equal(channel.current.doc.toString(), '>hello world');
    assert.deepEqual(
      bob.messages.map((m) => [m.t, 'version' in m ? m.version : undefined]),
      [
        ['op', 1],
        ['op', 2],
        ['ack', 3],
      ],
      'each subscriber sees every version once, in order',
    );
  });

  it('given another document holding the partition, when ops arrive, then they all join the next transaction', async () => {
    const { writer, committer, channel, alice } = setup();
    const other = new DocumentChannel(
      initialState('other'),
      { window: 100, hashEvery: 0, limits: DEFAULT_SUBMIT_LIMITS, now: () => 1_000 },
      committer,
      () => {},
    );
    const carol = new Inbox('carol');
    other.subscribers.set(carol.id, carol);
    const theirs = other.submit({ ...submission('c', 1, 0, ['x']), docId: 'other' }, carol);
    await settle();
    const ours = [
      channel.submit(submission('a', 1, 0, ['a']), alice),
      channel.submit(submission('a', 2, 1, [1, 'b']), alice),
    ];
    await settle();
    await writer.land();
    await theirs;
    assert.deepEqual(writer.versions(), [[1], [1, 2]], 'our second op did not wait for our first to land');
    await writer.land();
    assert.deepEqual(await Promise.all(ours), [
      { version: 1, duplicate: false },
      { version: 2, duplicate: false },
    ]);
  });

  it('given an op in flight, when its sender resubmits it, then it gets the same version once durable and the log one copy', async () => {
    const { writer, channel, alice } = setup();
    const original = channel.submit(submission('a', 1, 0, ['x']), alice);
    const again = channel.submit(submission('a', 1, 0, ['x']), alice);
    await settle();
    await writer.land();
    assert.deepEqual(await original, { version: 1, duplicate: false });
    assert.deepEqual(await again, { version: 1, duplicate: true });
    assert.deepEqual(writer.versions(), [[1]]);
    const acked = await channel.submit(submission('a', 1, 0, ['x']), alice);
    assert.deepEqual(acked, { version: 1, duplicate: true }, 'and after it landed, the original ack straight away');
  });

  it('given ops sequenced on top of an append that fails, then none of them reaches the log and the document is reloaded', async () => {
    const { writer, channel, alice, invalidated } = setup();
    const first = channel.submit(submission('a', 1, 0, ['a']), alice);
    await settle();
    const second = channel.submit(submission('a', 2, 1, [1, 'b']), alice);
    const third = channel.submit(submission('a', 3, 2, [2, 'c']), alice);
    const outcomes = Promise.allSettled([first, second, third]);
    await writer.fail(new CollabError('ERR_TIMEOUT', 'append timed out'));
    for (const outcome of await outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.equal((outcome.reason as { code: string }).code, 'ERR_UNAVAILABLE');
    }
    assert.deepEqual(writer.versions(), [[1]], 'versions 2 and 3 were never tried');
    assert.equal(writer.inFlight, 0);
    assert.equal(invalidated.length, 1);
    assert.equal(channel.current.version, 0);
    await assert.rejects(channel.submit(submission('a', 4, 0, ['z']), alice), { code: 'ERR_NOT_OWNER' });
  });

  it('given a fenced append, then its senders are told another server owns the document', async () => {
    const { writer, channel, alice, invalidated } = setup();
    const first = assert.rejects(channel.submit(submission('a', 1, 0, ['a']), alice), { code: 'ERR_NOT_OWNER' });
    await settle();
    await writer.fail(new CollabError('ERR_FENCED', 'fenced'));
    await first;
    assert.deepEqual(invalidated, ['fenced by a newer owner']);
  });

  it('retire() resolves only once the appends in flight have settled', async () => {
    const { writer, channel, alice } = setup();
    const first = channel.submit(submission('a', 1, 0, ['a']), alice);
    let retired = false;
    const retiring = channel.retire().then(() => (retired = true));
    await settle();
    assert.equal(retired, false);
    await writer.land();
    await retiring;
    assert.deepEqual(await first, { version: 1, duplicate: false });
    await assert.rejects(channel.submit(submission('a', 2, 1, [1, 'b']), alice), { code: 'ERR_NOT_OWNER' });
  });
});

describe('PartitionCommitter: the last guard before the log', () => {
  const record = (docId: string, version: number): AppendInput => ({
    value: {
      docId,
      version,
      op: ['x'],
      baseVersion: version - 1,
      clientId: 'c',
      seq: version,
      userId: 'u',
      timestamp: 0,
    },
  });

  it('refuses a record that would leave a gap in its document', async () => {
    const committer = new PartitionCommitter(new ScriptedWriter());
    committer.resume('d', 4);
    await assert.rejects(committer.append([record('d', 6)]), { code: 'ERR_CONFLICT' });
  });

  it('after a failed append, refuses the document until it resumes; other documents go on', async () => {
    const writer = new ScriptedWriter();
    const committer = new PartitionCommitter(writer);
    committer.resume('d', 0);
    committer.resume('e', 0);
    const lost = assert.rejects(committer.append([record('d', 1)]), { code: 'ERR_UNAVAILABLE' });
    const behind = assert.rejects(committer.append([record('d', 2)]), { code: 'ERR_UNAVAILABLE' });
    await settle();
    await writer.fail(new CollabError('ERR_UNAVAILABLE', 'broker down'));
    await lost;
    await behind;
    await assert.rejects(committer.append([record('d', 3)]), /must be reloaded/);
    const other = committer.append([record('e', 1)]);
    await settle();
    await writer.land();
    await other;
    committer.resume('d', 1);
    const resumed = committer.append([record('d', 2)]);
    await settle();
    await writer.land();
    await resumed;
    assert.deepEqual(writer.versions(), [[1], [1], [2]]);
  });

  it('will not resume a document while an append of it is in flight', async () => {
    const writer = new ScriptedWriter();
    const committer = new PartitionCommitter(writer);
    const inFlight = committer.append([record('d', 1)]);
    assert.throws(() => committer.resume('d', 0), { code: 'ERR_CONFLICT' });
    await settle();
    await writer.land();
    await inFlight;
    committer.resume('d', 1);
  });

  it('after an append of unknown outcome, a new writer fences the doubtful one before anything is appended or loaded', async () => {
    const first = new ScriptedWriter();
    const second = new ScriptedWriter();
    let opened = 0;
    let closedFirst = false;
    first.close = () => {
      closedFirst = true;
      return Promise.resolve();
    };
    const committer = new PartitionCommitter(first, () => {
      opened++;
      return Promise.resolve(second);
    });
    committer.resume('d', 0);
    const lost = assert.rejects(committer.append([record('d', 1)]), { code: 'ERR_TIMEOUT' });
    await settle();
    await first.fail(new CollabError('ERR_TIMEOUT', 'append timed out'));
    await lost;
    assert.equal(opened, 0, 'nothing reopens until it is needed');
    await committer.ready(); // what a reload waits for before it reads the log
    assert.equal(opened, 1);
    assert.equal(closedFirst, true);
    assert.equal(committer.writer, second);
    committer.resume('d', 0);
    const retried = committer.append([record('d', 1)]);
    await settle();
    await second.land();
    await retried;
    assert.deepEqual(first.versions(), [[1]]);
    assert.deepEqual(second.versions(), [[1]]);
  });

  it('a fenced writer is never reopened (another instance owns the partition)', async () => {
    const writer = new ScriptedWriter();
    let opened = 0;
    const committer = new PartitionCommitter(writer, () => {
      opened++;
      return Promise.resolve(new ScriptedWriter());
    });
    const fenced = assert.rejects(committer.append([record('d', 1)]), { code: 'ERR_FENCED' });
    await settle();
    await writer.fail(new CollabError('ERR_FENCED', 'fenced'));
    await fenced;
    await committer.ready();
    assert.equal(opened, 0);
  });

  it('when the reopen fails, ready() fails and the next call tries again', async () => {
    const writer = new ScriptedWriter();
    const replacement = new ScriptedWriter();
    let attempts = 0;
    const committer = new PartitionCommitter(writer, () =>
      ++attempts === 1
        ? Promise.reject(new CollabError('ERR_UNAVAILABLE', 'kafka down'))
        : Promise.resolve(replacement),
    );
    const lost = assert.rejects(committer.append([record('d', 1)]), { code: 'ERR_UNAVAILABLE' });
    await settle();
    await writer.fail(new CollabError('ERR_UNAVAILABLE', 'broker went away'));
    await lost;
    await assert.rejects(committer.ready(), { code: 'ERR_UNAVAILABLE' });
    await committer.ready();
    assert.equal(committer.writer, replacement);
  });
});
