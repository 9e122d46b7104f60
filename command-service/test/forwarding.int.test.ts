/**
 * Forwarding's bounded wait, in one process: an instance that owns nothing forwards a submission and no owner
 * ever answers (a bus that swallows commands). The client gets ERR_UNAVAILABLE (retriable) for that op after the
 * forward timeout — never a hang — and nothing reaches the log.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CommandBus, ForwardedCommand } from '@collab/core';
import { createPartitionFor } from '@collab/adapter-kafka';
import { readDocs } from './support/convergence.js';
import { ofType, RawClient } from './support/raw-client.js';
import type { RunningService, TestTopic } from './support/service.js';
import { freshTopic, startService, token } from './support/service.js';

/** A bus with no owner behind it: commands are accepted and go nowhere; no partition is ever assigned. */
function blackHoleBus(partitions: number): CommandBus & { forwarded: ForwardedCommand[] } {
  const forwarded: ForwardedCommand[] = [];
  const stopped = { stop: async () => {} };
  return {
    forwarded,
    partitionCount: partitions,
    partitionFor: createPartitionFor('t', partitions),
    forward: async (command) => void forwarded.push(command),
    consumeCommands: async () => stopped,
    reply: async () => {},
    consumeReplies: async () => stopped,
    close: async () => {},
  };
}

describe('command-service forwarding timeout (real Kafka op log, no owner)', function () {
  let t: TestTopic;
  let svc: RunningService;
  const bus = blackHoleBus(2);

  before(async () => {
    t = await freshTopic(2);
    svc = await startService(t, { ownAllPartitions: false, bus, forwardTimeoutMs: 300 });
  });
  after(() => svc?.stop());

  it('a forward with no outcome is rejected ERR_UNAVAILABLE (retriable) with its docId and seq', async () => {
    assert.deepEqual(svc.service.hub.ownedPartitions, []);
    const docId = `doc-${randomUUID()}`;
    const c = await RawClient.connect(svc.url);
    try {
      c.send({ t: 'auth', token: await token('alice'), protocol: 1 });
      await c.next(ofType('welcome'));
      c.send({ t: 'open', docId });
      await c.next(ofType('snapshot'));
      c.send({ t: 'submit', docId, clientId: 'c', seq: 7, baseVersion: 0, op: ['x'] });
      const err = await c.next(ofType('error'), 5_000);
      assert.equal(err.code, 'ERR_UNAVAILABLE', JSON.stringify(err));
      assert.equal(err.retriable, true);
      assert.equal(err.docId, docId);
      assert.equal(err.seq, 7);
      assert.equal(bus.forwarded.length, 1);
      assert.equal(bus.forwarded[0]!.origin, svc.service.instanceId);
      assert.deepEqual((bus.forwarded[0] as { submission?: unknown }).submission, {
        docId,
        clientId: 'c',
        seq: 7,
        baseVersion: 0,
        op: ['x'],
        userId: 'alice',
      });
      assert.deepEqual((await readDocs(t, [docId])).get(docId), []);
    } finally {
      c.close();
    }
  });
});
