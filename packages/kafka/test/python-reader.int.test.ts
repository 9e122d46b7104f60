/**
 * The ops topic read by Python's standard Kafka tools (readers/python/read_document.py: confluent-kafka with
 * isolation.level=read_committed, its AvroDeserializer through the real schema registry, the ops applied with the
 * code-point semantics of docs/ot.md): the text it rebuilds equals the log's replay here, emoji and all, and an
 * aborted transaction in the partition (a record framed like ours, then aborted) is not seen.
 *
 * The topic has the history of an upgrade: its first versions written with schema v1 (registered first, as the
 * previous servers did), the rest by today's op log (v2, registered over it). The reader rebuilds the same text
 * with each record's own writer schema, resolved to v1 (an old reader: it sees `op` only) and resolved to v2
 * (fastavro fills `components` of the v1 records with the default, and the reader falls back to `op`). Comment
 * events of the document sit between its ops (comment-event schema, its own subject): the reader skips them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CommentEvent, OpCommitted } from '@collab/core';
import { seededRandom } from '@collab/core';
import { requireSchemaRegistry, useStack } from '@collab/infra';
import { insertOp, removeOp, type TextOp, type as textType } from '@collab/ot-text';
import {
  SchemaRegistryClient,
  currentOpCommittedSchemaText,
  encodeOpCommitted,
  localOpCommittedCodecFor,
  opCommittedSchemaText,
  readFrame,
  valueSubject,
  writeFrame,
} from '@collab/schemas';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const run = promisify(execFile);
const readers = fileURLToPath(new URL('../../../readers/python/', import.meta.url));
const schemasDir = fileURLToPath(new URL('../../../schemas/avro/op-committed/', import.meta.url));

/** A document's history: random inserts (emoji among them: positions count code points) and deletes. */
function history(docId: string, count: number, seed: number): { ops: OpCommitted[]; text: string } {
  const random = seededRandom(seed);
  const words = ['a', 'bc', '😀', 'é', '漢字', ' ', '👍🏽'];
  let text = '';
  const ops: OpCommitted[] = [];
  for (let version = 1; version <= count; version++) {
    const length = [...text].length;
    const op: TextOp =
      length > 3 && random() < 0.3
        ? removeOp(Math.floor(random() * (length - 1)), 1)
        : insertOp(Math.floor(random() * (length + 1)), words[Math.floor(random() * words.length)]!);
    text = textType.apply(text, op).toString();
    ops.push({ docId, version, op, baseVersion: version - 1, clientId: 'c', seq: version, userId: 'u', timestamp: 0 });
  }
  return { ops, text };
}

describe('the ops topic read by Python (confluent-kafka, fastavro, the schema registry)', function () {
  this.timeout(300_000);
  let python: string;
  let registryUrl: string;
  let brokers: string[];
  let fx: KafkaFixture | undefined;

  before(async () => {
    // A virtualenv with the readers' requirements from PyPI, made once per machine (readers/python/setup.sh).
    python = (await run('bash', [`${readers}setup.sh`], { timeout: 240_000 })).stdout.trim();
    const stack = await useStack();
    registryUrl = requireSchemaRegistry(stack).url;
    brokers = stack.kafka.brokers;
    // Ids are global, by content: in a fresh registry the first schema gets id 1, which a reader could take for the
    // pre-registry local id. Another schema first (as schema-registry.int.test.ts does), so that whichever of the
    // two tests registers the ops schema first, it never gets id 1 — the other test asserts exactly that.
    await new SchemaRegistryClient({ url: registryUrl }).register(
      `unrelated-${randomUUID()}-value`,
      JSON.stringify({ type: 'record', name: 'Unrelated', fields: [] }),
    );
  });
  after(async () => {
    await fx?.cleanup();
  });

  it('rebuilds a document equal to the log replay across the v1 → v2 upgrade, and never sees an aborted transaction', async () => {
    const registry = new SchemaRegistryClient({ url: registryUrl });
    const topic = `ops-test-${randomUUID().slice(0, 12)}`;
    // What the servers before v2 did: v1 registered under the subject, FULL_TRANSITIVE.
    const v1Id = await registry.register(valueSubject(topic), opCommittedSchemaText(1));
    await registry.setCompatibility(valueSubject(topic), 'FULL_TRANSITIVE');
    fx = await kafkaFixture(brokers, 2, { topic, schemaRegistry: { url: registryUrl } }); // registers v2 over it
    assert.deepEqual(await registry.versions(valueSubject(topic)), [1, 2]);

    const seed = 20261207;
    const doc = history('py-doc', 120, seed);
    const other = history('py-other', 40, seed + 1);
    const partition = fx.log.partitionFor('py-doc');
    // Versions 1..60 (and the other document's 1..20) as the previous servers wrote them: v1, framed with v1's id.
    const v1Codec = localOpCommittedCodecFor(1);
    const v1Frame = (value: OpCommitted) => writeFrame(v1Id, readFrame(v1Codec.encode(value)).body);
    const before = fx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await before.connect();
    try {
      await before.send({
        topic,
        acks: -1,
        messages: [
          ...doc.ops.slice(0, 60).map((value) => ({ key: value.docId, value: v1Frame(value), partition })),
          ...other.ops.slice(0, 20).map((value) => ({
            key: value.docId,
            value: v1Frame(value),
            partition: fx!.log.partitionFor('py-other'),
          })),
        ],
      });
    } finally {
      await before.disconnect();
    }
    // The rest through today's op log: v2, framed with v2's id.
    const writer = await fx.log.openWriter(partition);
    const otherWriter =
      fx.log.partitionFor('py-other') === partition ? writer : await fx.log.openWriter(fx.log.partitionFor('py-other'));
    for (let i = 60; i < 120; i += 10) {
      // Each batch followed by a comment event of the document (its own schema and subject, docs/comments.md): a
      // reader of ops must skip them, whatever reader schema it uses.
      const comment: CommentEvent = {
        docId: 'py-doc',
        version: i + 10,
        userId: 'u',
        timestamp: 1_764_230_400_000 + i,
        body: { kind: 'created', threadId: `t${i}`, messageId: `m${i}`, anchor: { start: 0, end: 1 }, text: '👀' },
      };
      await writer.append([...doc.ops.slice(i, i + 10).map((value) => ({ value })), { value: comment }]);
      if (i < 80) await otherWriter.append(other.ops.slice(i - 40, i - 30).map((value) => ({ value })));
    }

    // A transaction that writes the next version of the document, framed as ours, and is aborted: a reader that
    // honours read_committed never sees it.
    const id = await new SchemaRegistryClient({ url: registryUrl }).register(
      valueSubject(fx.topic),
      currentOpCommittedSchemaText(),
    );
    const bogus = { ...doc.ops[0]!, version: 121, op: ['ABORTED'] as TextOp };
    const producer = fx.kafka.producer({
      transactionalId: `aborting-${fx.topic}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({
        topic: fx.topic,
        messages: [{ key: 'py-doc', value: writeFrame(id, readFrame(encodeOpCommitted(bogus)).body), partition }],
      });
      await transaction.abort();
    } finally {
      await producer.disconnect();
    }
    await writer.close();
    if (otherWriter !== writer) await otherWriter.close();

    for (const readerSchema of [undefined, 'v1.avsc', 'v2.avsc']) {
      const { stdout, stderr }: { stdout: string; stderr: string } = await run(
        python,
        [
          `${readers}read_document.py`,
          '--brokers',
          brokers.join(','),
          '--registry',
          registryUrl,
          '--topic',
          topic,
          '--doc',
          'py-doc',
          ...(readerSchema === undefined ? [] : ['--reader-schema', `${schemasDir}${readerSchema}`]),
        ],
        { timeout: 120_000 },
      );
      const how = readerSchema === undefined ? "each record's writer schema" : `reader schema ${readerSchema}`;
      console.log(`      ${how}: ${stdout.trim()}`); // what docs/data.md shows
      const read = JSON.parse(stdout) as { docId: string; version: number; text: string };
      assert.equal(read.version, 120, `${how}: the aborted version 121 was not seen (seed ${seed}) ${stderr}`);
      assert.equal(read.text, doc.text, `${how}, seed ${seed}`);
      assert.ok(!read.text.includes('ABORTED'));
    }
  });
});
