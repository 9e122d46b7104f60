/**
 * The OpLog contract against the integration stack's Kafka, plus what only Kafka has: the partitioner matches
 * kafkajs's default (so key = docId lands on partitionFor), end offsets are last stable offsets (an open
 * transaction neither blocks read() nor counts), appends are single produces fenced by the claim's producer
 * epoch, unreachable brokers give ERR_UNAVAILABLE, topic provisioning.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { isCollabError, type LogRecord } from '@collab/core';
import { opLogContract } from '@collab/contracts';
import { useStack } from '@collab/infra';
import { decodeOpCommitted, encodeOpCommitted } from '@collab/schemas';
import { Partitioners } from 'kafkajs';
import { createTransactionalProducer } from '../src/producers.js';
import { createKafkaOpLog, ensureOpsTopic } from '../src/index.js';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const brokers = async () => (await useStack()).kafka.brokers;

opLogContract('kafka', async () => kafkaFixture(await brokers()));

describe('Kafka OpLog specifics', function () {
  this.timeout(120_000);
  let fx: KafkaFixture;
  beforeEach(async () => {
    fx = await kafkaFixture(await brokers(), 4);
  });
  afterEach(() => fx.cleanup());

  const sample = (docId: string, version: number) => ({
    docId,
    version,
    op: ['x'],
    baseVersion: version - 1,
    clientId: 'c',
    seq: version,
    userId: 'u',
    timestamp: 1_764_230_400_000,
  });

  it("partitionFor equals kafkajs's default partitioner: records keyed by docId land there", async () => {
    const producer = fx.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const docs = Array.from({ length: 40 }, (_, i) => `doc-${randomUUID()}-${i}`);
      await producer.send({
        topic: fx.topic,
        messages: docs.map((docId) => ({ key: docId, value: encodeOpCommitted(sample(docId, 1)) })),
      });
      const seen = new Set<number>();
      for (const docId of docs) seen.add(fx.log.partitionFor(docId));
      assert.equal(seen.size, 4, 'the sample should cover all four partitions');
      for (const p of seen) {
        const records: LogRecord[] = [];
        for await (const batch of fx.log.read(p, 0n)) records.push(...batch);
        const expected = docs.filter((d) => fx.log.partitionFor(d) === p).sort();
        assert.deepEqual(records.map((r) => r.value.docId).sort(), expected, `partition ${p}`);
      }
    } finally {
      await producer.disconnect();
    }
  });

  it('endOffsets and read() stop at the last stable offset: an open transaction neither counts nor blocks', async () => {
    const p = 2;
    let docId = `doc-${randomUUID()}`;
    while (fx.log.partitionFor(docId) !== p) docId = `doc-${randomUUID()}`;
    const stuck = fx.kafka.producer({ transactionalId: `stuck-${fx.topic}`, idempotent: true, maxInFlightRequests: 1 });
    await stuck.connect();
    const txn = await stuck.transaction();
    try {
      const writer = await fx.log.openWriter(p);
      const [first] = await writer.append([{ value: sample(docId, 1) }]);
      // Another producer's transaction stays open on the same partition, in the middle of ours.
      await txn.send({
        topic: fx.topic,
        messages: [{ key: docId, value: encodeOpCommitted(sample(docId, 99)), partition: p }],
      });
      const endBefore = (await fx.log.endOffsets())[p]!;
      assert.ok(endBefore > first!, 'our committed record is below the end');
      // Our next append lands after the open transaction's record, so it stays above the last stable offset
      // until that transaction ends. (Nothing of ours leaves a transaction open in a partition we write: a
      // foreign transactional writer on the ops topic is outside the contract, README "Read-your-writes".)
      await writer.append([{ value: sample(docId, 2) }]);
      const read: LogRecord[] = [];
      for await (const batch of fx.log.read(p, 0n)) read.push(...batch);
      assert.deepEqual(
        read.map((r) => r.value.version),
        [1],
        'read() ends at the last stable offset without waiting for the open transaction',
      );
      assert.equal((await fx.log.endOffsets())[p], endBefore, 'the open transaction does not move the end');
      await txn.abort();
      // The abort marker lands a moment after EndTxn returns; until then the end stays where it was.
      while ((await fx.log.endOffsets())[p] === endBefore) await new Promise((resolve) => setTimeout(resolve, 5));
      const after: LogRecord[] = [];
      for await (const batch of fx.log.read(p, 0n)) after.push(...batch);
      assert.deepEqual(
        after.map((r) => r.value.version),
        [1, 2],
        'the aborted record is never read',
      );
      await writer.close();
    } finally {
      if (txn.isActive()) await txn.abort();
      await stuck.disconnect();
    }
  });

  it('a transactional producer looks its coordinator up about once a second, and reads the LSO of one partition', async () => {
    const { producer, lastStableOffset } = createTransactionalProducer(fx.kafka, {
      transactionalId: `transactional-producer-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const lookups: string[] = [];
    producer.on(producer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'GroupCoordinator') lookups.push(e.payload.apiName);
    });
    await producer.connect();
    try {
      const started = Date.now();
      const transactions = 20;
      let last = -1n;
      for (let i = 1; i <= transactions; i++) {
        const t = await producer.transaction();
        const [sent] = await t.send({
          topic: fx.topic,
          messages: [{ key: 'doc', value: encodeOpCommitted(sample('doc', i)) }],
        });
        await t.commit();
        last = BigInt(sent!.baseOffset!);
      }
      // The last commit marker lands a moment after EndTxn returns; read once it has.
      const partitionOfDoc = fx.log.partitionFor('doc');
      while ((await fx.log.endOffsets())[partitionOfDoc]! <= last) await new Promise((r) => setTimeout(r, 5));
      const seconds = Math.ceil((Date.now() - started) / 1000);
      // kafkajs alone: 2 per transaction (40). With the cache: one per elapsed second, plus the first.
      assert.ok(
        lookups.length <= seconds + 2,
        `${lookups.length} lookups for ${transactions} transactions in ${seconds} s`,
      );
      const records: LogRecord[] = [];
      for await (const batch of fx.log.read(fx.log.partitionFor('doc'), 0n)) records.push(...batch);
      assert.deepEqual(
        records.map((r) => r.value.version),
        Array.from({ length: transactions }, (_, i) => i + 1),
      );
      assert.ok(lastStableOffset, "kafkajs's cluster was found");
      const partition = fx.log.partitionFor('doc');
      assert.equal(await lastStableOffset(fx.topic, partition), (await fx.log.endOffsets())[partition]);
    } finally {
      await producer.disconnect();
    }
  });

  /** Counts the requests every kafkajs client of this process sends, by API, while `work` runs. */
  async function countRequests<T>(work: () => Promise<T>): Promise<{ result: T; sent: Map<string, number> }> {
    // kafkajs has no request hook across clients: count at the connection, for this test only.
    const connection = createRequire(import.meta.url)('kafkajs/src/network/connection.js') as {
      prototype: { send: (args: { request: { apiName: string } }) => Promise<unknown> };
    };
    const send = connection.prototype.send;
    const sent = new Map<string, number>();
    connection.prototype.send = function (this: unknown, args) {
      sent.set(args.request.apiName, (sent.get(args.request.apiName) ?? 0) + 1);
      return send.call(this, args);
    };
    try {
      return { result: await work(), sent };
    } finally {
      connection.prototype.send = send;
    }
  }

  it('an append is one produce: no transaction, no ListOffsets, and readable by read_committed readers when acked', async () => {
    const docId = `doc-${randomUUID()}`;
    const partition = fx.log.partitionFor(docId);
    const writer = await fx.log.openWriter(partition);
    const claimEnd = (await fx.log.endOffsets())[partition]!;
    try {
      const appends = 10;
      const { result: offsets, sent } = await countRequests(async () => {
        const offsets: bigint[] = [];
        for (let v = 1; v <= appends; v++) offsets.push(...(await writer.append([{ value: sample(docId, v) }])));
        return offsets;
      });
      // kafkajs looks the topic's metadata up before its first send; nothing else but the produces.
      assert.deepEqual(Object.fromEntries([...sent].filter(([api]) => api !== 'Metadata')), { Produce: appends });
      // No commit markers: n records move the end by n (the claim's record and its abort marker came before).
      assert.deepEqual(
        offsets,
        Array.from({ length: appends }, (_, i) => claimEnd + BigInt(i)),
      );
      assert.equal((await fx.log.endOffsets())[partition], claimEnd + BigInt(appends));
      const read: LogRecord[] = [];
      for await (const batch of fx.log.read(partition, 0n)) read.push(...batch);
      assert.deepEqual(
        read.map((r) => r.value.version),
        Array.from({ length: appends }, (_, i) => i + 1),
        'every acked append is read, and the claim is not',
      );
    } finally {
      await writer.close();
    }
  });

  it('a stale owner racing a newer claim: what it landed before the claim is read, nothing after it', async () => {
    const docId = `doc-${randomUUID()}`;
    const partition = fx.log.partitionFor(docId);
    const stale = await fx.log.openWriter(partition);
    // The stale owner keeps appending (each record names its writer) while the new one claims the partition.
    const acked: number[] = [];
    let refused: unknown;
    const racing = (async () => {
      for (let v = 1; refused === undefined && v <= 10_000; v++) {
        await stale.append([{ value: sample(docId, v), headers: { writer: 'stale' } }]).then(
          () => acked.push(v),
          (err: unknown) => (refused = err),
        );
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fresh = await fx.log.openWriter(partition);
    await racing;
    assert.ok(isCollabError(refused, 'ERR_FENCED'), `the stale owner is fenced: ${String(refused)}`);
    const before: LogRecord[] = [];
    for await (const batch of fx.log.read(partition, 0n)) before.push(...batch);
    // The new owner continues after the last record it can read, as the command-service does after a takeover.
    const next = before.length + 1;
    await fresh.append([{ value: sample(docId, next), headers: { writer: 'fresh' } }]);
    await assert.rejects(stale.append([{ value: sample(docId, next) }]), (err) => isCollabError(err, 'ERR_FENCED'));
    const read: LogRecord[] = [];
    for await (const batch of fx.log.read(partition, 0n)) read.push(...batch);
    assert.ok(acked.length > 0, 'the stale owner appended before the claim');
    assert.deepEqual(
      read.map((r) => `${r.headers.writer}:${r.value.version}`),
      [...before.map((r) => `stale:${r.value.version}`), `fresh:${next}`],
      "the stale owner's records, then the new owner's: none of the stale owner after the claim",
    );
    // Every acknowledged append is there (one refused in flight may be there too: its outcome was unknown).
    assert.deepEqual(
      before.slice(0, acked.length).map((r) => r.value.version),
      acked,
    );
    await Promise.all([stale.close(), fresh.close()]);
  });

  it('two writers claiming one partition at once: never both append past the point the other loaded at', async () => {
    // Two instances: two clients of the topic, as two command-services are.
    const other = await createKafkaOpLog({
      brokers: await brokers(),
      topic: fx.topic,
      partitionCount: 4,
      clientId: `ops-test-other-${fx.topic}`,
    });
    try {
      const docId = `doc-${randomUUID()}`;
      const partition = fx.log.partitionFor(docId);
      let version = 0;
      let refusedOpens = 0;
      for (let trial = 1; trial <= 24; trial++) {
        const from = (await fx.log.endOffsets())[partition]!;
        // Each writer, once open, reads the end: where the command-service would load its documents up to.
        const open = (log: typeof fx.log, name: string) =>
          log.openWriter(partition).then(async (writer) => ({
            name,
            writer,
            loadedTo: (await log.endOffsets())[partition]!,
          }));
        // The second starts a little later each trial, sweeping its claim across every step of the first's.
        const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const settled = await Promise.allSettled([
          open(fx.log, 'a'),
          later((trial % 12) * 2).then(() => open(other, 'b')),
        ]);
        const opened = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        for (const r of settled) {
          if (r.status === 'rejected') {
            assert.ok(isCollabError(r.reason, 'ERR_FENCED'), String(r.reason));
            refusedOpens++;
          }
        }
        for (let round = 0; round < 3; round++) {
          for (const { name, writer } of opened) {
            await writer.append([{ value: sample(docId, ++version), headers: { writer: name } }]).catch(() => {});
          }
        }
        const read: LogRecord[] = [];
        for await (const batch of fx.log.read(partition, from)) read.push(...batch);
        for (const w of opened) {
          for (const x of opened) {
            if (w === x) continue;
            const past = (name: string) => read.filter((r) => r.headers.writer === name && r.offset >= x.loadedTo);
            assert.ok(
              past(w.name).length === 0 || past(x.name).length === 0,
              `trial ${trial}: ${w.name} appended past where ${x.name} loaded (${x.loadedTo}), and so did ${x.name}: a fork`,
            );
          }
        }
        await Promise.all(opened.map(({ writer }) => writer.close()));
      }
      console.log(`      (${refusedOpens} of 48 concurrent opens gave way)`);
    } finally {
      await other.close();
    }
  });

  it('gives way when another writer registers the id between its claim and its appends (no fork)', async () => {
    const docId = `doc-${randomUUID()}`;
    const partition = fx.log.partitionFor(docId);
    const writerId = `${fx.topic}-writer-p${partition}`;
    // Another writer's whole claim, run at the worst moment: after ours is decided, before our appending producer
    // takes its epoch. Then it loads (reads the end), as the command-service does after opening its writer.
    let loadedTo: bigint | undefined;
    const foreignClaim = async () => {
      const claimer = fx.kafka.producer({ transactionalId: writerId, idempotent: true, maxInFlightRequests: 1 });
      await claimer.connect();
      const transaction = await claimer.transaction();
      await transaction.send({ topic: fx.topic, messages: [{ partition, key: null, value: null }] });
      await transaction.abort();
      await claimer.disconnect();
      while ((loadedTo = (await fx.log.endOffsets())[partition]!) === undefined);
    };
    // Our opening sends three InitProducerIds (kafkajs's claimer registers once for idempotence and once for its
    // transaction; then the appending producer): run the foreign claim just before the third.
    const connection = createRequire(import.meta.url)('kafkajs/src/network/connection.js') as {
      prototype: { send: (args: { request: { apiName: string } }) => Promise<unknown> };
    };
    const send = connection.prototype.send;
    let inits = 0;
    let foreign = false;
    connection.prototype.send = async function (this: unknown, args) {
      if (args.request.apiName === 'InitProducerId' && !foreign && ++inits === 3) {
        foreign = true;
        await foreignClaim();
        foreign = false;
      }
      return send.call(this, args);
    };
    let opened: Awaited<ReturnType<typeof fx.log.openWriter>> | undefined;
    try {
      opened = await fx.log.openWriter(partition).catch((err: unknown) => {
        assert.ok(isCollabError(err, 'ERR_FENCED'), String(err));
        return undefined;
      });
    } finally {
      connection.prototype.send = send;
    }
    assert.ok(loadedTo !== undefined, 'the foreign claim ran');
    if (opened !== undefined) {
      // Without the check the writer opens with an epoch above the other's claim, so its append lands past the
      // point where the other loaded: the other would sequence on a state without it.
      const landed = await opened.append([{ value: sample(docId, 1) }]).then(
        ([offset]) => offset,
        () => undefined,
      );
      await opened.close();
      assert.equal(
        landed,
        undefined,
        `an append landed at ${landed}, past where the other writer loaded (${loadedTo})`,
      );
    }
  });

  it("renews its claim under the epoch it holds; a stale owner's renewal is refused and takes nothing back", async () => {
    const renewing = await kafkaFixture(await brokers(), 1, { timeouts: { claimRenewalMs: 300 } });
    try {
      const docId = `doc-${randomUUID()}`;
      const stale = await renewing.log.openWriter(0);
      await stale.append([{ value: sample(docId, 1) }]);
      const writer = await renewing.log.openWriter(0); // fences `stale`, whose renewals now run against a newer claim
      const { sent } = await countRequests(async () => {
        for (let v = 2; v <= 8; v++) {
          await writer.append([{ value: sample(docId, v) }]);
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      });
      // Renewals of both writers: empty transactions, and never a new producer epoch (InitProducerId).
      assert.ok((sent.get('EndTxn') ?? 0) >= 3, `renewed: ${JSON.stringify(Object.fromEntries(sent))}`);
      assert.equal(sent.get('InitProducerId'), undefined, 'a renewal never claims afresh');
      await assert.rejects(stale.append([{ value: sample(docId, 9) }]), (err) => isCollabError(err, 'ERR_FENCED'));
      const read: LogRecord[] = [];
      for await (const batch of renewing.log.read(0, 0n)) read.push(...batch);
      assert.deepEqual(
        read.map((r) => r.value.version),
        [1, 2, 3, 4, 5, 6, 7, 8],
        "every append of the new owner landed: the stale owner's renewals did not take the partition back",
      );
      await Promise.all([stale.close(), writer.close()]);
    } finally {
      await renewing.cleanup();
    }
  });

  it('writes Avro frames keyed by docId (what data teams read)', async () => {
    const consumerCheck: unknown[] = [];
    const docId = `doc-${randomUUID()}`;
    const p = fx.log.partitionFor(docId);
    const writer = await fx.log.openWriter(p);
    await writer.append([{ value: sample(docId, 1), headers: { traceparent: 't' } }]);
    await writer.close();
    for await (const batch of fx.log.read(p, 0n)) consumerCheck.push(...batch);
    assert.equal(consumerCheck.length, 1);
    // A raw consumer sees key = docId and a framed value.
    const raw = fx.kafka.consumer({ groupId: `raw-${randomUUID()}` });
    await raw.connect();
    await raw.subscribe({ topics: [fx.topic], fromBeginning: true });
    const got: { key: string; value: Buffer }[] = [];
    await raw.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key!.toString(), value: message.value! });
      },
    });
    const deadline = Date.now() + 30_000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await raw.disconnect();
    assert.equal(got[0]?.key, docId);
    assert.equal(got[0]?.value[0], 0, 'magic byte');
    assert.equal(decodeOpCommitted(got[0]!.value).docId, docId);
  });

  it('a partition count that differs from the topic is refused at startup', async () => {
    await assert.rejects(
      createKafkaOpLog({ brokers: await brokers(), topic: fx.topic, partitionCount: 3, clientId: 't' }),
      (err: unknown) => isCollabError(err, 'ERR_INVALID_ARGUMENT'),
    );
  });

  it('ensureOpsTopic is idempotent, sets retention forever, and refuses a different partition count', async () => {
    const admin = fx.kafka.admin();
    await admin.connect();
    try {
      assert.deepEqual(await ensureOpsTopic(admin, { topic: fx.topic, partitions: 4, replicationFactor: 1 }), {
        created: false,
      });
      await assert.rejects(
        ensureOpsTopic(admin, { topic: fx.topic, partitions: 8, replicationFactor: 1 }),
        (err: unknown) => isCollabError(err, 'ERR_INVALID_ARGUMENT'),
      );
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: fx.topic, configNames: ['retention.ms', 'cleanup.policy'] }],
      });
      const entries = Object.fromEntries(
        described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
      );
      assert.deepEqual(entries, { 'retention.ms': '-1', 'cleanup.policy': 'delete' });
    } finally {
      await admin.disconnect();
    }
  });
});

describe('Kafka OpLog when Kafka is unreachable', () => {
  it('fails with ERR_UNAVAILABLE naming the brokers', async () => {
    const unreachable = ['127.0.0.1:1'];
    await assert.rejects(
      createKafkaOpLog({
        brokers: unreachable,
        topic: 'ops',
        partitionCount: 1,
        clientId: 't',
        retries: 0,
        timeouts: { connectionMs: 500, operationMs: 5_000 },
      }),
      (err: unknown) => {
        assert.ok(isCollabError(err, 'ERR_UNAVAILABLE'), String(err));
        assert.equal(err.retriable, true);
        assert.match(err.message, /127\.0\.0\.1:1/);
        return true;
      },
    );
  });
});
