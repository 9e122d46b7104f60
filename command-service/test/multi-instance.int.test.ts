/**
 * Several command-service processes on real Kafka. Proves the multi-instance invariants end to end:
 *  - any instance accepts any document: a client on a non-owner edits through forwarding and converges with the
 *    owner's clients; rejections and duplicate acks come back to the right client;
 *  - SIGKILL of an instance mid-stream: the survivor takes its partitions over after the group rebalance, the
 *    killed instance's clients reconnect there and resend their op in flight with the same seq, and the log ends
 *    gapless, without a duplicate, with every acked op, and equal to every client's text (one writer per document,
 *    no acked op lost or applied twice, convergence);
 *  - SIGTERM hands partitions over at once, with nothing but retriable errors visible to clients.
 * The instances run with the read side (a fresh keyspace and bucket, the real projection-service beside them), so
 * a takeover loads documents from snapshot + read models + the Kafka tail after the projection's offset.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPartitionFor } from '@collab/adapter-kafka';
import { assertConverged, quiesce, seeded } from './support/convergence.js';
import { DocClient } from './support/doc-client.js';
import type { MultiTopic } from './support/processes.js';
import { freshTopics, Instance, until } from './support/processes.js';
import type { RunningProjection, TestReadSide } from './support/read-side.js';
import { freshReadSide, startProjection } from './support/read-side.js';
import { ofType, RawClient } from './support/raw-client.js';
import { token } from './support/service.js';

const PARTITIONS = 4;

/** `perPartition` documents in each partition, so that every instance owns some of them. */
function docsCovering(t: MultiTopic, perPartition: number): string[] {
  const partitionFor = createPartitionFor(t.topic, t.partitions);
  const byPartition = new Map<number, string[]>();
  while ([...byPartition.values()].filter((d) => d.length >= perPartition).length < t.partitions) {
    const docId = `doc-${randomUUID().slice(0, 8)}`;
    const list = byPartition.get(partitionFor(docId)) ?? [];
    if (list.length < perPartition) list.push(docId);
    byPartition.set(partitionFor(docId), list);
  }
  return [...byPartition.values()].flat();
}

async function ownership(instances: readonly Instance[]): Promise<Map<number, Instance>> {
  const owners = new Map<number, Instance>();
  for (const i of instances) for (const p of (await i.status()).ownedPartitions) owners.set(p, i);
  return owners;
}

/** Every partition owned by exactly one of `instances`, and each of them owning at least one. */
async function settled(instances: readonly Instance[]): Promise<Map<number, Instance> | undefined> {
  const statuses = await Promise.all(instances.map((i) => i.status()));
  const all = statuses.flatMap((s) => s.ownedPartitions);
  if (all.length !== PARTITIONS || new Set(all).size !== PARTITIONS) return undefined;
  if (statuses.some((s) => s.ownedPartitions.length === 0)) return undefined;
  return ownership(instances);
}

async function authed(url: string, userId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

/** Clients type into random documents every `everyMs` until stopped. */
function typing(clients: readonly DocClient[], docIds: readonly string[], seed: number, everyMs = 25) {
  const random = seeded(seed);
  const timer = setInterval(() => {
    for (const c of clients) c.edit(docIds[Math.floor(random() * docIds.length)]!, random);
  }, everyMs);
  return () => clearInterval(timer);
}

describe('command-service: several instances (real processes, real Kafka)', function () {
  this.timeout(240_000);
  let t: MultiTopic;
  let a: Instance;
  let b: Instance;
  const started: Instance[] = [];
  const clients: DocClient[] = [];
  const raw: RawClient[] = [];
  let rs: TestReadSide;
  let projection: RunningProjection;
  let readSideEnv: Record<string, string>;

  before(async () => {
    t = await freshTopics(PARTITIONS);
    rs = await freshReadSide();
    const projectionGroup = `${t.topic}-projection`;
    projection = await startProjection(t, rs.readModels, projectionGroup);
    // Comments on (the default): the takeover below proves the read-side load with them.
    readSideEnv = { ...rs.env, COLLAB_PROJECTION_GROUP: projectionGroup };
    [a, b] = await Promise.all([Instance.start(t, 'a', readSideEnv), Instance.start(t, 'b', readSideEnv)]);
    started.push(a, b);
    await until('both instances to own partitions', () => settled([a, b]));
  });
  after(async () => {
    for (const c of clients) c.stop();
    for (const c of raw) c.close();
    for (const i of started) i.kill('SIGKILL');
    await Promise.all(started.map((i) => i.exited));
    await projection?.stop();
    await rs?.close();
  });

  it('a client on a non-owner edits through forwarding and converges with the owner’s clients', async () => {
    const owners = await ownership([a, b]);
    const docIds = docsCovering(t, 1);
    const onA = new DocClient(() => [a.url], await token('alice'));
    const onB = new DocClient(() => [b.url], await token('bob'));
    clients.push(onA, onB);
    await Promise.all([onA.start(docIds), onB.start(docIds)]);
    const stop = typing([onA, onB], docIds, 1);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stop();
    await quiesce([onA, onB], docIds);
    const numbers = await assertConverged(t, [onA, onB], docIds);
    // Each client edited documents the other instance owns: those acks came through forwarding.
    for (const [client, home] of [
      [onA, a],
      [onB, b],
    ] as const) {
      const forwarded = docIds.filter((d) => owners.get(createPartitionFor(t.topic, PARTITIONS)(d)) !== home);
      const acks = forwarded.reduce((n, d) => n + client.docs.get(d)!.acked.size, 0);
      assert.ok(acks > 0, `${client.clientId} had ops acked on documents owned elsewhere`);
      assert.deepEqual(client.errors, [], 'no errors at all while nothing fails');
    }
    console.log(`      forwarding: ${numbers.opsInLog} ops in the log, ${numbers.acked} acks checked`);
  });

  it('through a non-owner, a rejection reaches only its client and a resubmission gets the original ack', async () => {
    const owners = await ownership([a, b]);
    const partitionFor = createPartitionFor(t.topic, PARTITIONS);
    const docId = docsCovering(t, 1).find((d) => owners.get(partitionFor(d)) === a)!;
    const viaB = await authed(b.url, 'bob');
    const other = await authed(a.url, 'alice');
    raw.push(viaB, other);
    for (const c of [viaB, other]) {
      c.send({ t: 'open', docId });
      await c.next(ofType('snapshot'));
    }
    viaB.send({ t: 'submit', docId, clientId: 'rb', seq: 1, baseVersion: 0, op: ['hi'] });
    assert.deepEqual(await viaB.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
    assert.equal((await other.next(ofType('op'))).version, 1);

    viaB.send({ t: 'submit', docId, clientId: 'rb', seq: 2, baseVersion: 1, op: [9, 'x'] });
    const err = await viaB.next(ofType('error'));
    assert.equal(err.code, 'ERR_OP_INVALID', JSON.stringify(err));
    assert.equal(err.detail, 'ERR_OP_TOO_LONG');
    assert.equal(err.seq, 2);

    viaB.send({ t: 'submit', docId, clientId: 'rb', seq: 1, baseVersion: 0, op: ['hi'] });
    assert.deepEqual(await viaB.next(ofType('ack')), { t: 'ack', docId, seq: 1, version: 1 });
    // Presence (who is here) may flow when a presence bus is configured; no op, ack or error may.
    // (and the comment threads its open was answered with)
    const leaked = other.pending().filter((m) => m.t !== 'presence' && m.t !== 'presence-leave' && m.t !== 'comments');
    assert.deepEqual(leaked, [], 'nothing of it reached anyone else');
  });

  it('SIGKILL of an instance mid-stream: the survivor takes over, nothing acked is lost, nothing doubles, all converge', async () => {
    const docIds = docsCovering(t, 2);
    const mk = async (home: Instance, other: Instance, user: string) =>
      new DocClient(() => [home.url, other.url], await token(user));
    const group = [
      await mk(a, b, 'a1'),
      await mk(a, b, 'a2'),
      await mk(a, b, 'a3'),
      await mk(b, a, 'b1'),
      await mk(b, a, 'b2'),
      await mk(b, a, 'b3'),
    ];
    clients.push(...group);
    await Promise.all(group.map((c) => c.start(docIds)));
    const stop = typing(group, docIds, 2);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const killedAt = Date.now();
    a.kill('SIGKILL');
    await a.exited;
    await until('b to own every partition', async () =>
      (await b.status()).ownedPartitions.length === PARTITIONS ? true : undefined,
    );
    const takeoverMs = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stop();
    await quiesce(group, docIds);
    const numbers = await assertConverged(t, group, docIds);
    const reconnects = group.reduce((n, c) => n + c.reconnects, 0);
    const codes = [...new Set(group.flatMap((c) => c.errors.map((e) => String(e.code))))];
    console.log(
      `      SIGKILL: ${numbers.opsInLog} ops in the log, ${numbers.acked} acks checked, takeover ${takeoverMs} ms, ` +
        `${reconnects} reconnects, errors seen: ${codes.join(', ') || 'none'}`,
    );
    assert.ok(reconnects >= 3, 'the killed instance’s clients reconnected');
    for (const c of group) for (const e of c.errors) assert.equal(e.retriable, true, JSON.stringify(e));
    // The survivor loaded the documents it took over from the read side, not by scanning the partitions.
    const loads = b.lines.filter(
      (l) =>
        l.includes('document loaded from snapshot + read models') && Number(/"time":(\d+)/.exec(l)?.[1]) >= killedAt,
    );
    console.log(`      SIGKILL: ${loads.length} documents loaded from the read side after the takeover`);
    assert.ok(loads.length > 0, `read-side loads after the takeover:\n${b.problems().slice(-10).join('\n')}`);
  });

  it('SIGTERM hands partitions over at once, with only retriable errors for clients', async () => {
    const c = await Instance.start(t, 'c', readSideEnv);
    started.push(c);
    await until('c to take some partitions', () => settled([b, c]));
    const docIds = docsCovering(t, 1);
    const group = [
      new DocClient(() => [c.url, b.url], await token('c1')),
      new DocClient(() => [c.url, b.url], await token('c2')),
      new DocClient(() => [b.url, c.url], await token('b4')),
    ];
    clients.push(...group);
    await Promise.all(group.map((x) => x.start(docIds)));
    const stop = typing(group, docIds, 3);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const termAt = Date.now();
    c.kill('SIGTERM');
    const exit = await c.exited;
    await until('b to own every partition', async () =>
      (await b.status()).ownedPartitions.length === PARTITIONS ? true : undefined,
    );
    const handoverMs = Date.now() - termAt;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stop();
    await quiesce(group, docIds);
    const numbers = await assertConverged(t, group, docIds);
    console.log(`      SIGTERM: ${numbers.opsInLog} ops, ${numbers.acked} acks checked, handover ${handoverMs} ms`);
    assert.equal(exit.code, 0, `clean exit:\n${c.problems().slice(-10).join('\n')}`);
    assert.ok(handoverMs < 6_000, `handover (${handoverMs} ms) does not wait for the session timeout`);
    for (const x of group) for (const e of x.errors) assert.equal(e.retriable, true, JSON.stringify(e));
  });

  it('an instance told another projection group than the one that projects the keyspace refuses to start', async () => {
    const other = `${t.topic}-some-other-group`;
    await assert.rejects(
      Instance.start(t, 'd', { ...readSideEnv, COLLAB_PROJECTION_GROUP: other }),
      (err: Error) =>
        /exited \(2\) before ready/.test(err.message) &&
        err.message.includes(`is projected by consumer group ${t.topic}-projection, not ${other}`),
    );
  });
});
