/**
 * One writer per document, enforced by Kafka: when another writer takes a partition (a new owner after a
 * rebalance), the old owner's next append fails — it can never fork the history — and its clients are told to
 * retry (ERR_NOT_OWNER), not that their op is lost.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OpCommitted } from '@collab/core';
import { isOpCommitted } from '@collab/core';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, openLog, startService, token } from './support/service.js';

async function readDoc(t: TestTopic, docId: string): Promise<OpCommitted[]> {
  const log = await openLog(t);
  try {
    const out: OpCommitted[] = [];
    for await (const batch of log.read(log.partitionFor(docId), 0n)) {
      for (const r of batch) if (r.value.docId === docId && isOpCommitted(r.value)) out.push(r.value);
    }
    return out;
  } finally {
    await log.close();
  }
}

describe('command-service fencing (real Kafka)', function () {
  let topic: TestTopic;
  let svc: RunningService;
  let client: RawClient;

  before(async () => {
    topic = await freshTopic(2);
    svc = await startService(topic);
    client = await RawClient.connect(svc.url);
    client.send({ t: 'auth', token: await token('alice'), protocol: 1 });
    await client.next(ofType('welcome'));
  });
  after(async () => {
    client?.close();
    await svc?.stop();
  });

  it('a fenced owner cannot append: its client gets ERR_NOT_OWNER and the log has no fork', async () => {
    const docId = `doc-${randomUUID()}`;
    client.send({ t: 'open', docId });
    await client.next(ofType('snapshot'));
    client.send({ t: 'submit', docId, clientId: 'c', seq: 1, baseVersion: 0, op: ['one'] });
    assert.equal((await client.next(ofType('ack'))).version, 1);

    // A new owner appears for the document's partition (as after a rebalance) and writes version 2.
    const usurper = await openLog(topic);
    const writer = await usurper.openWriter(usurper.partitionFor(docId));
    await writer.append([
      {
        value: {
          docId,
          version: 2,
          op: [3, ' two'],
          baseVersion: 1,
          clientId: 'other',
          seq: 1,
          userId: 'bob',
          timestamp: Date.now(),
        },
      },
    ]);

    // The stale owner still believes it owns the partition; its append must fail, not fork version 2.
    client.send({ t: 'submit', docId, clientId: 'c', seq: 2, baseVersion: 1, op: [3, '!'] });
    const err = await client.next(ofType('error'));
    assert.equal(err.code, 'ERR_NOT_OWNER', JSON.stringify(err));
    assert.equal(err.retriable, true);

    const history = await readDoc(topic, docId);
    assert.deepEqual(
      history.map((r) => [r.version, r.clientId]),
      [
        [1, 'c'],
        [2, 'other'],
      ],
      'exactly one history: no second version 2',
    );
    await writer.close();
    await usurper.close();
  });
});
