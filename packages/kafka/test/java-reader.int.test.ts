/**
 * The ops topic read by a JVM program through the schema registry (readers/java/ReadOps.java: Kafka's Java consumer
 * and the Java Avro library from Maven Central, each value's writer schema fetched by id from the registry). The
 * topic holds two committed ops and a comment event written by our op log (ids assigned by the registry), then the
 * aborted batch of a fenced writer: under read_committed the reader decodes the three committed records and never
 * the aborted one; under read_uncommitted it decodes the aborted op too (docs/data.md, "Ordering and delivery").
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireSchemaRegistry, useStack } from '@collab/infra';
import * as schemas from '@collab/schemas';
import { sendThenFence, textRecord } from './support/fenced-writer.js';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const run = promisify(execFile);
const reader = fileURLToPath(new URL('../../../readers/java/', import.meta.url));

const record = (version: number, text: string) => textRecord('jvm-doc', version, text, Date.now());

interface Line {
  partition: number;
  offset: number;
  schemaId: number;
  kind: 'op' | 'comment';
  docId: string;
  version: number;
}

describe('the ops topic read by a JVM program through the schema registry (readers/java)', function () {
  this.timeout(300_000);
  let brokers: string[];
  let registryUrl: string;
  let classpath: string;
  let fx: KafkaFixture | undefined;

  before(async () => {
    const stack = await useStack();
    brokers = stack.kafka.brokers;
    registryUrl = requireSchemaRegistry(stack).url;
    classpath = (await run('bash', [`${reader}classpath.sh`], { timeout: 240_000 })).stdout.trim();
  });
  after(async () => {
    await fx?.cleanup();
  });

  async function readOps(isolation: 'read_committed' | 'read_uncommitted'): Promise<Line[]> {
    const { stdout } = await run(
      'java',
      [
        '-cp',
        classpath,
        `${reader}src/main/java/collab/readers/ReadOps.java`,
        '--brokers',
        brokers.join(','),
        '--registry',
        registryUrl,
        '--topic',
        fx!.topic,
        '--isolation',
        isolation,
      ],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    );
    return stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  }

  it('decodes the committed records; the fenced writer aborted batch only under read_uncommitted', async () => {
    const topic = `ops-test-${randomUUID().slice(0, 12)}`;
    fx = await kafkaFixture(brokers, 1, { topic, schemaRegistry: { url: registryUrl } });
    const writer = await fx.log.openWriter(0);
    await writer.append([{ value: record(1, 'committed-one') }, { value: record(2, 'committed-two') }]);
    await writer.append([
      {
        value: {
          docId: 'jvm-doc',
          version: 2,
          userId: 'u',
          timestamp: Date.now(),
          body: { kind: 'resolved', threadId: 't' },
        },
      },
    ]);
    await writer.close();

    // A writer with a transaction open, its record framed with the registry's id like ours …
    const opId = await new schemas.SchemaRegistryClient({ url: registryUrl }).register(
      schemas.valueSubject(topic),
      schemas.currentOpCommittedSchemaText(),
    );
    const frame = schemas.writeFrame(
      opId,
      schemas.readFrame(schemas.encodeOpCommitted(record(3, 'fenced-write'))).body,
    );
    await sendThenFence(fx.kafka, topic, 0, 'jvm-doc', frame); // … fenced by a new one: the broker aborts it

    const committed = await readOps('read_committed');
    const summary = (lines: Line[]) => lines.map((l) => `${l.kind} ${l.docId}@${l.version} id ${l.schemaId}`);
    assert.deepEqual(summary(committed), [
      `op jvm-doc@1 id ${opId}`,
      `op jvm-doc@2 id ${opId}`,
      `comment jvm-doc@2 id ${committed[2]?.schemaId}`,
    ]);
    assert.notEqual(committed[2]!.schemaId, opId, 'the comment event has its own schema id');
    const uncommitted = await readOps('read_uncommitted');
    assert.deepEqual(summary(uncommitted), [...summary(committed), `op jvm-doc@3 id ${opId}`]);
  });
});
