/**
 * The op log with a real Confluent-compatible schema registry (the stack's Apicurio Registry): the current schema
 * registered under `<topic>-value` with FULL_TRANSITIVE, records framed with the id the registry assigned, read
 * back by that id; an id only the registry knows is looked up; records framed with the pre-registry id 1 stay
 * readable; the registry refuses an incompatible schema; a start with the registry unreachable fails naming it,
 * unless the id is cached; the upgrade from v1: v2 registered over a subject holding v1, both read back by today's
 * codec (v1's id known from the start) and by a v1 codec (the previous servers, still running during the roll).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCollabError, type CommentEvent, type LogRecord, type OpCommitted, type OpLog } from '@collab/core';
import { freePort, requireSchemaRegistry, useStack } from '@collab/infra';
import type avro from 'avsc';
import {
  OpCommittedCodec,
  SchemaRegistryClient,
  createRegistryOpCommittedCodec,
  currentOpCommittedSchemaText,
  encodeOpCommitted,
  localOpCommittedCodecFor,
  opCommittedSchemaText,
  readFrame,
  valueSubject,
  commentEventSubject,
  commentEventSchemaText,
  writeFrame,
} from '@collab/schemas';
import { createKafkaOpLog } from '../src/index.js';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const sample = (docId: string, version: number): OpCommitted => ({
  docId,
  version,
  op: [version - 1, 'x'].filter((c) => c !== 0) as OpCommitted['op'],
  baseVersion: version - 1,
  clientId: 'c',
  seq: version,
  userId: 'u',
  timestamp: 1_764_230_400_000,
});

async function readAll(log: OpLog, partition: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const batch of log.read(partition, 0n)) records.push(...batch);
  return records;
}

/** The raw frames of a partition, as a standard Kafka consumer would see them. */
async function rawValues(fx: KafkaFixture, partition: number, count: number): Promise<Buffer[]> {
  const consumer = fx.kafka.consumer({ groupId: `raw-${randomUUID()}` });
  await consumer.connect();
  const got: Buffer[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  try {
    await consumer.subscribe({ topics: [fx.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition: p }) => {
        if (p === partition && message.value !== null) got.push(message.value);
        if (got.length >= count) done();
      },
    });
    await Promise.race([
      all,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${got.length}/${count} raw records`)), 30_000),
      ),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('Kafka OpLog with a schema registry', function () {
  this.timeout(120_000);
  let registryUrl: string;
  let client: SchemaRegistryClient;
  let brokers: string[];
  let fx: KafkaFixture | undefined;
  let cacheDir: string;

  before(async () => {
    const stack = await useStack();
    registryUrl = requireSchemaRegistry(stack).url;
    brokers = stack.kafka.brokers;
    client = new SchemaRegistryClient({ url: registryUrl });
    // Ids are global: taking one first makes the ops schema's id differ from the pre-registry id 1 in a fresh
    // registry (the stack's), so the first test tells "the assigned id" from "a hard-coded 1".
    await client.register(
      `unrelated-${randomUUID()}-value`,
      JSON.stringify({ type: 'record', name: 'Unrelated', fields: [] }),
    );
  });
  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'collab-registry-cache-'));
  });
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('registers <topic>-value with FULL_TRANSITIVE, frames records with the assigned id and reads them back', async () => {
    fx = await kafkaFixture(brokers, 1, { schemaRegistry: { url: registryUrl } });
    const subject = valueSubject(fx.topic);
    const assigned = await client.register(subject, currentOpCommittedSchemaText()); // same schema: same id
    assert.notEqual(assigned, 1, 'the registry gave the ops schema id 1: not a fresh registry (restart it)');
    assert.deepEqual(await client.versions(subject), [1]);
    assert.equal(await client.compatibility(subject), 'FULL_TRANSITIVE');

    const writer = await fx.log.openWriter(0);
    await writer.append([{ value: sample('doc', 1) }, { value: sample('doc', 2) }]);
    await writer.close();

    const frames = await rawValues(fx, 0, 2);
    assert.deepEqual(
      frames.map((f) => readFrame(f).schemaId),
      [assigned, assigned],
    );
    // What a registry-aware reader does: the schema of the frame's id, from the registry.
    assert.deepEqual(JSON.parse(await client.schemaById(assigned)), JSON.parse(currentOpCommittedSchemaText()));
    assert.deepEqual(
      (await readAll(fx.log, 0)).map((r) => r.value),
      [sample('doc', 1), sample('doc', 2)],
    );
  });

  it('reads an id only the registry knows (looked up once) and the pre-registry id 1 records', async () => {
    fx = await kafkaFixture(brokers, 1, { schemaRegistry: { url: registryUrl } });
    // Another text of a schema that reads the same bytes: a new id in the registry, unknown to the codec.
    const variant = JSON.parse(currentOpCommittedSchemaText()) as Record<string, unknown>;
    variant.doc = `variant ${randomUUID()}`;
    const variantId = await client.register(`${fx.topic}-variant-value`, JSON.stringify(variant));
    // Framed with the local id 1, as the servers wrote v1 before registries (the registry's id 1 is another schema).
    const legacy = localOpCommittedCodecFor(1).encode(sample('old', 1));
    assert.equal(readFrame(legacy).schemaId, 1);
    const viaVariant = writeFrame(variantId, readFrame(encodeOpCommitted(sample('new', 1))).body);

    const producer = fx.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: fx.topic,
      messages: [
        { key: 'old', value: legacy, partition: 0 },
        { key: 'new', value: viaVariant, partition: 0 },
      ],
    });
    await producer.disconnect();

    assert.deepEqual(
      (await readAll(fx.log, 0)).map((r) => r.value),
      [sample('old', 1), sample('new', 1)],
    );
  });

  it("the upgrade from v1: v2 registered over v1, records of both read by today's codec and by a v1 codec", async () => {
    const topic = `ops-test-${randomUUID().slice(0, 12)}`;
    const subject = valueSubject(topic);
    // What the servers before v2 did: v1 registered, FULL_TRANSITIVE, records framed with v1's id.
    const v1Id = await client.register(subject, opCommittedSchemaText(1));
    await client.setCompatibility(subject, 'FULL_TRANSITIVE');
    fx = await kafkaFixture(brokers, 1, { topic, schemaRegistry: { url: registryUrl } }); // today's servers
    const v2Id = await client.register(subject, currentOpCommittedSchemaText()); // same schema: the same id
    assert.notEqual(v2Id, v1Id);
    assert.deepEqual(await client.versions(subject), [1, 2]);
    assert.equal(await client.compatibility(subject), 'FULL_TRANSITIVE');

    const v1Codec = localOpCommittedCodecFor(1);
    const producer = fx.kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [1, 2].map((v) => ({
        key: 'doc',
        value: writeFrame(v1Id, readFrame(v1Codec.encode(sample('doc', v))).body),
        partition: 0,
      })),
    });
    await producer.disconnect();
    const writer = await fx.log.openWriter(0);
    await writer.append([{ value: sample('doc', 3) }, { value: sample('doc', 4) }]);
    await writer.close();

    const frames = await rawValues(fx, 0, 4);
    assert.deepEqual(
      frames.map((f) => readFrame(f).schemaId),
      [v1Id, v1Id, v2Id, v2Id],
    );
    const all = [1, 2, 3, 4].map((v) => sample('doc', v));
    assert.deepEqual(
      (await readAll(fx.log, 0)).map((r) => r.value),
      all,
    );
    // Today's codec learnt v1's id at start: it reads a v1 record with no registry request.
    const cache = join(cacheDir, 'ids.json');
    const today = await createRegistryOpCommittedCodec({ url: registryUrl, topic, idCachePath: cache });
    assert.equal(today.writerSchemaId, v2Id);
    assert.equal(today.prepare(frames[0]!), undefined, "v1's id is known without a lookup");
    assert.deepEqual(today.decode(frames[0]!), sample('doc', 1));
    // Restarted while the registry is down: both ids from the cache (its entries, as if written for that URL).
    const down = `http://127.0.0.1:${await freePort()}/apis/ccompat/v6`;
    const entries = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, number>;
    assert.deepEqual(Object.values(entries).sort(), [v1Id, v2Id].sort());
    writeFileSync(
      cache,
      JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k.replace(registryUrl, down), v]))),
    );
    const offline = await createRegistryOpCommittedCodec({ url: down, topic, idCachePath: cache, timeoutMs: 2_000 });
    assert.equal(offline.writerSchemaId, v2Id);
    assert.equal(offline.prepare(frames[0]!), undefined, "v1's id is known from the cache");
    assert.deepEqual(offline.decode(frames[0]!), sample('doc', 1));
    // A v1 codec (as the previous servers run it, writing v1's id) reads the v2 records through the registry.
    const lookup = async (id: number) => JSON.parse(await client.schemaById(id)) as avro.Schema;
    const old = new OpCommittedCodec(v1Id, { schemaVersion: 1, lookup });
    const decoded = [];
    for (const frame of frames) {
      await old.prepare(frame);
      decoded.push(old.decode(frame));
    }
    assert.deepEqual(decoded, all);
  });

  it('processes starting at once on a new subject all get the same id (the services of one deployment)', async () => {
    fx = await kafkaFixture(brokers, 1);
    const opens = Array.from({ length: 4 }, () =>
      createRegistryOpCommittedCodec({ url: registryUrl, topic: `${fx!.topic}` }).then((codec) => codec.writerSchemaId),
    );
    const ids = await Promise.all(opens);
    const assigned = await client.register(valueSubject(fx.topic), currentOpCommittedSchemaText());
    assert.deepEqual(ids, [assigned, assigned, assigned, assigned]);
    assert.equal(await client.compatibility(valueSubject(fx.topic)), 'FULL_TRANSITIVE');
  });

  it("the registry's compatibility endpoint refuses an incompatible schema under FULL_TRANSITIVE", async () => {
    fx = await kafkaFixture(brokers, 1, { schemaRegistry: { url: registryUrl } });
    const subject = valueSubject(fx.topic);
    const incompatible = JSON.parse(currentOpCommittedSchemaText()) as {
      fields: Array<{ name: string; type: unknown }>;
    };
    // docId becomes a long: old data cannot be read with it, nor new data with the old schema.
    incompatible.fields = incompatible.fields.map((f) => (f.name === 'docId' ? { ...f, type: 'long' } : f));
    assert.equal(await client.isCompatible(subject, JSON.stringify(incompatible)), false);
    await assert.rejects(client.register(subject, JSON.stringify(incompatible)), (err: unknown) => {
      assert.ok(isCollabError(err) && err.code === 'ERR_CONFLICT', String(err));
      return true;
    });
    assert.deepEqual(await client.versions(subject), [1]);
    // A compatible change (an optional field with a default) passes the same check.
    const compatible = JSON.parse(currentOpCommittedSchemaText()) as { fields: unknown[] };
    compatible.fields.push({ name: 'note', type: ['null', 'string'], default: null });
    assert.equal(await client.isCompatible(subject, JSON.stringify(compatible)), true);
  });

  it('comment events: registered under <topic>-collab.comments.CommentEvent (FULL_TRANSITIVE), framed with that id, read back between ops; an ops-only codec refuses them', async () => {
    fx = await kafkaFixture(brokers, 1, { schemaRegistry: { url: registryUrl } });
    const subject = commentEventSubject(fx.topic);
    assert.equal(subject, `${fx.topic}-collab.comments.CommentEvent`);
    const commentsId = await client.register(subject, commentEventSchemaText()); // same schema: same id
    const opsId = await client.register(valueSubject(fx.topic), currentOpCommittedSchemaText());
    assert.notEqual(commentsId, opsId);
    assert.equal(await client.compatibility(subject), 'FULL_TRANSITIVE');
    assert.deepEqual(await client.versions(valueSubject(fx.topic)), [1], 'op-committed alone under <topic>-value');

    const event: CommentEvent = {
      docId: 'doc',
      version: 1,
      userId: 'u',
      timestamp: 1_764_230_400_000,
      body: { kind: 'created', threadId: 't', messageId: 'm', anchor: { start: 0, end: 1 }, text: 'hm 👀' },
    };
    const writer = await fx.log.openWriter(0);
    await writer.append([{ value: sample('doc', 1) }, { value: event }, { value: sample('doc', 2) }]);
    await writer.close();
    const frames = await rawValues(fx, 0, 3);
    assert.deepEqual(
      frames.map((f) => readFrame(f).schemaId),
      [opsId, commentsId, opsId],
    );
    assert.deepEqual(
      (await readAll(fx.log, 0)).map((r) => r.value),
      [sample('doc', 1), event, sample('doc', 2)],
    );
    const opsOnly = await createRegistryOpCommittedCodec({ url: registryUrl, topic: fx.topic });
    await opsOnly.prepare(frames[1]!);
    assert.throws(
      () => opsOnly.decode(frames[1]!),
      (err: unknown) => isCollabError(err, 'ERR_CORRUPT'),
    );
  });

  it('start-up with the registry unreachable fails naming its URL, unless the id is cached', async () => {
    const down = `http://127.0.0.1:${await freePort()}/apis/ccompat/v6`;
    const topic = `ops-test-${randomUUID().slice(0, 12)}`;
    const cache = join(cacheDir, 'ids.json');
    await assert.rejects(
      createKafkaOpLog({
        brokers,
        topic,
        partitionCount: 1,
        clientId: 'registry-down',
        schemaRegistry: { url: down, idCachePath: cache, timeoutMs: 2_000 },
      }),
      (err: unknown) => {
        assert.ok(isCollabError(err) && err.code === 'ERR_UNAVAILABLE', String(err));
        assert.match((err as Error).message, new RegExp(`schema registry ${down.replace(/[.]/g, '\\.')}`));
        assert.match((err as Error).message, /COLLAB_SCHEMA_REGISTRY_URL/);
        assert.match((err as Error).message, /no id is cached/);
        return true;
      },
    );

    // With the registry up once, the id lands in the cache; a later start with the same URL down uses it.
    fx = await kafkaFixture(brokers, 1, { schemaRegistry: { url: registryUrl, idCachePath: cache } });
    const assigned = await client.register(valueSubject(fx.topic), currentOpCommittedSchemaText());
    const commentsId = await client.register(commentEventSubject(fx.topic), commentEventSchemaText());
    const entries = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, number>;
    // Both record kinds of the topic (ops and comment events, each under its subject) are cached.
    assert.deepEqual(Object.values(entries).sort(), [assigned, commentsId].sort());
    // The same cache entries, as if they had been written for the unreachable URL (same subjects and schemas).
    writeFileSync(
      cache,
      JSON.stringify(
        Object.fromEntries(Object.entries(entries).map(([key, id]) => [key.replace(registryUrl, down), id])),
      ),
    );
    const log = await createKafkaOpLog({
      brokers,
      topic: fx.topic,
      partitionCount: 1,
      clientId: 'registry-down-cached',
      schemaRegistry: { url: down, idCachePath: cache, timeoutMs: 2_000 },
    });
    try {
      const writer = await log.openWriter(0);
      await writer.append([{ value: sample('cached', 1) }]);
      await writer.close();
      const [frame] = await rawValues(fx, 0, 1);
      assert.equal(readFrame(frame!).schemaId, assigned);
    } finally {
      await log.close();
    }
  });
});
