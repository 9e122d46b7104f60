/**
 * COLLAB_OPS_SCHEMA_VERSION on real Kafka, without a registry (the op log's `opsSchemaVersion`): a writer switched
 * to 1 frames its ops with v1's local id, which a reader of the release before v2 knows, and its records are the
 * bytes that release's codec writes; the same log reads v1 and v2 records alike; a version that does not exist,
 * or the switch beside a registry, is refused when the log opens.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isCollabError, type OpCommitted, type OpLog } from '@collab/core';
import { useStack } from '@collab/infra';
import { localOpCommittedCodecFor, readFrame } from '@collab/schemas';
import { createKafkaOpLog } from '../src/index.js';
import { textRecord } from './support/fenced-writer.js';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

describe('COLLAB_OPS_SCHEMA_VERSION: a writer that keeps writing v1 (no registry)', function () {
  this.timeout(180_000);
  let brokers: string[];
  let fx: KafkaFixture | undefined;
  let v1Log: OpLog | undefined;

  before(async () => {
    brokers = (await useStack()).kafka.brokers;
  });
  after(async () => {
    await v1Log?.close();
    await fx?.cleanup();
  });

  /** The raw values of the partition, in order (a consumer of the bytes, no codec). */
  async function rawValues(count: number): Promise<Buffer[]> {
    const consumer = fx!.kafka.consumer({ groupId: `raw-${randomUUID()}` });
    const values: Buffer[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: fx!.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              values.push(message.value!);
              if (values.length === count) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return values;
  }

  it('frames the ops with v1 (the previous release reads them), and reads v1 and v2 records back', async () => {
    fx = await kafkaFixture(brokers, 1);
    v1Log = await createKafkaOpLog({
      brokers,
      topic: fx.topic,
      partitionCount: 1,
      clientId: 'v1',
      opsSchemaVersion: 1,
    });
    const ops: OpCommitted[] = [1, 2, 3].map((v) => textRecord('doc', v, `t${v}`, 1_000 + v));
    const old = await v1Log.openWriter(0);
    await old.append([{ value: ops[0]! }, { value: ops[1]! }]);
    await old.close();
    const current = await fx.log.openWriter(0); // the default: the newest version
    await current.append([{ value: ops[2]! }]);
    await current.close();

    const values = await rawValues(3);
    assert.deepEqual(
      values.map((v) => readFrame(v).schemaId),
      [1, 1, 2],
    );
    const v1Codec = localOpCommittedCodecFor(1);
    assert.deepEqual(values.slice(0, 2), [v1Codec.encode(ops[0]!), v1Codec.encode(ops[1]!)], "v1's own bytes");

    const read: OpCommitted[] = [];
    for await (const batch of v1Log.read(0, 0n)) for (const r of batch) read.push(r.value as OpCommitted);
    assert.deepEqual(read, ops);
  });

  it('refuses a version that does not exist, and the switch beside a schema registry, when the log opens', async () => {
    const topic = fx!.topic;
    await assert.rejects(
      createKafkaOpLog({ brokers, topic, partitionCount: 1, clientId: 'v9', opsSchemaVersion: 9 }),
      (err: unknown) =>
        isCollabError(err) && err.code === 'ERR_INVALID_ARGUMENT' && /versions 1, 2, not 9/.test(err.message),
    );
    await assert.rejects(
      createKafkaOpLog({
        brokers,
        topic,
        partitionCount: 1,
        clientId: 'both',
        opsSchemaVersion: 1,
        schemaRegistry: { url: 'http://127.0.0.1:1/apis/ccompat/v7' },
      }),
      (err: unknown) => isCollabError(err) && /without a schema registry/.test(err.message),
    );
  });
});
