/**
 * Telemetry as an operator sees it: the real service processes, started the way operators start them
 * (`command-service/src/main.ts`, `collab serve --mode distributed`, the projection-service's and the
 * snapshot-service's main), against the real stack, each exporting to an OTLP/HTTP receiver on loopback and
 * serving Prometheus on its metrics port. Clients type a few ops, then from outside:
 *  - every service's /metrics and OTLP export carry its metrics, with the ops counted (ack latency, commits,
 *    projected ops, snapshot writes, the relay's lag, presence, a client's divergence report);
 *  - each op is one trace: its `collab.submit` → `collab.append` in the owner, continued by the projection's
 *    batch, the snapshot-service's batch and the relay's delivery on the other instance, each a child of the
 *    append span (the trace context rides in the Kafka record's headers).
 * Before the fix the command-service exported `# no registered metrics` and no span at all.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { useStack, freePort } from '@collab/infra';
import type { ReceivedSpan } from './support/otlp-receiver.js';
import { OtlpReceiver, promValue } from './support/otlp-receiver.js';
import type { MultiTopic } from './support/processes.js';
import { freshTopics, Instance, ServiceProcess, until } from './support/processes.js';
import type { TestReadSide } from './support/read-side.js';
import { freshReadSide } from './support/read-side.js';
import { ofType, RawClient } from './support/raw-client.js';
import { token } from './support/service.js';

const OPS = 3;
const SERVICES = {
  command: 'collab-command-service',
  projection: 'collab-projection-service',
  snapshot: 'collab-snapshot-service',
};

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

async function authed(url: string, userId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.send({ t: 'auth', token: await token(userId), protocol: 1 });
  await c.next(ofType('welcome'));
  return c;
}

describe('telemetry of the service processes, from outside (OTLP receiver, Prometheus scrape)', function () {
  this.timeout(300_000);
  let receiver: OtlpReceiver;
  let t: MultiTopic;
  let rs: TestReadSide;
  const processes: ServiceProcess[] = [];
  const clients: RawClient[] = [];
  const ports = { a: 0, b: 0, projection: 0, snapshot: 0 };

  before(async function () {
    const stack = await useStack();
    receiver = await OtlpReceiver.start();
    t = await freshTopics(1); // one partition: one instance owns the document, the other relays it
    rs = await freshReadSide();
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    const projectionGroup = `${t.topic}-projection`;
    const telemetry = (port: number) => ({
      COLLAB_METRICS_PORT: String(port),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_BSP_SCHEDULE_DELAY: '100', // the SDK's batch span processor reads it: spans out within 0.1 s
    });
    const common = {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: t.brokers.join(','),
      COLLAB_OPS_TOPIC: t.topic,
      COLLAB_OPS_PARTITIONS: String(t.partitions),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...rs.env,
    };
    processes.push(
      await ServiceProcess.spawn('projection', ['projection-service/src/main.ts'], {
        ...common,
        ...telemetry(ports.projection),
        COLLAB_PROJECTION_GROUP: projectionGroup,
        COLLAB_PROJECTION_BATCH_WAIT_MS: '0',
        COLLAB_LAG_REFRESH_MS: '500',
      }),
      await ServiceProcess.spawn('snapshot', ['snapshot-service/src/main.ts'], {
        ...common,
        ...telemetry(ports.snapshot),
        COLLAB_SNAPSHOT_CONSUMER_GROUP: `${t.topic}-snapshot`,
        SNAPSHOT_EVERY_VERSIONS: '2',
      }),
    );
    const instanceEnv = (port: number) => ({
      ...rs.env,
      ...telemetry(port),
      COLLAB_PROJECTION_GROUP: projectionGroup,
      REDIS_URL: stack.redis.url,
    });
    processes.push(
      await Instance.start(t, 'a', instanceEnv(ports.a)),
      await Instance.start(t, 'b', instanceEnv(ports.b), ['cli/src/main.ts', 'serve', '--mode', 'distributed']),
    );
  });

  after(async function () {
    for (const c of clients) c.close();
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await rs?.close();
    await receiver?.close();
  });

  it('exports every service’s metrics and follows each op as one trace across the Kafka hop', async function () {
    const [a, b] = processes.slice(2) as [Instance, Instance];
    const owner = await until('an owner of the partition', async () => {
      for (const i of [a, b]) if ((await i.status()).ownedPartitions.includes(0)) return i;
      return undefined;
    });
    const other = owner === a ? b : a;
    const ownerPort = owner === a ? ports.a : ports.b;
    const otherPort = owner === a ? ports.b : ports.a;
    const docId = `doc-${randomUUID().slice(0, 8)}`;
    const writer = await authed(owner.url, 'alice');
    const reader = await authed(other.url, 'bob');
    clients.push(writer, reader);
    for (const c of [writer, reader]) {
      c.send({ t: 'open', docId });
      await c.next(ofType('snapshot'));
    }

    // One op at a time, each followed through every consumer before the next: each is then alone in its batch,
    // so every consumer's batch span is the op's own child (not only a link).
    const traces: string[] = [];
    for (let seq = 1; seq <= OPS; seq++) {
      writer.send({
        t: 'submit',
        docId,
        clientId: 'c-alice',
        seq,
        baseVersion: seq - 1,
        op: seq === 1 ? ['x'] : [seq - 1, 'x'],
      });
      await writer.next((m) => m.t === 'ack' && m.seq === seq);
      await reader.next((m) => m.t === 'op' && m.version === seq);
      const append = await until(`the append span of op ${seq}`, () =>
        receiver.spans.find((s) => s.name === 'collab.append' && traces.every((id) => id !== s.traceId)),
      );
      traces.push(append.traceId);
      const childOf = (service: string, name: string) => (s: ReceivedSpan) =>
        s.service === service && s.name === name && s.traceId === append.traceId && s.parentSpanId === append.spanId;
      await until(`op ${seq}'s trace in the projection, the snapshot-service and the relay`, () => {
        const spans = receiver.spans;
        const found = [
          spans.find(childOf(SERVICES.projection, 'collab.project')),
          spans.find(childOf(SERVICES.snapshot, 'collab.snapshot.fold')),
          // Every instance relays the log (the owner sees its own ops again); the other one's is the delivery.
          spans.find((s) => childOf(SERVICES.command, 'collab.relay')(s) && s.instance !== append.instance),
        ];
        return found.every((s) => s !== undefined) ? found : undefined;
      });
      const submit = receiver.spans.find((s) => s.name === 'collab.submit' && s.traceId === append.traceId);
      assert.ok(submit, `op ${seq}: the collab.submit span of its trace`);
      assert.equal(append.parentSpanId, submit.spanId, 'the append is a child of the submit');
      assert.equal(submit.instance, append.instance, 'submit and append on the owner');
      const write = receiver.spans.find((s) => s.traceId === append.traceId && s.name === 'cassandra.writeOps');
      assert.ok(write, 'the Cassandra write is in the trace too');
    }

    // Presence, and a client telling the server it diverged (the zero-divergence SLO's signal).
    writer.send({ t: 'presence', docId, version: OPS, cursor: { anchor: 1, head: 1 } });
    await reader.next((m) => m.t === 'presence' && JSON.stringify(m.users ?? m).includes('"anchor":1'));
    reader.send({ t: 'open', docId, resync: 'hash_mismatch' });
    await reader.next(ofType('snapshot'));

    const command = await until('the owner’s metrics', async () => {
      const text = await scrape(ownerPort);
      return promValue(text, 'collab_op_ack_latency_count') >= OPS &&
        promValue(text, 'collab_presence_update_latency_count') >= 1
        ? text
        : undefined;
    });
    assert.ok(promValue(command, 'collab_ops_committed_total') >= OPS, 'ops committed');
    assert.ok(promValue(command, 'collab_log_append_latency_count') >= 1, 'appends timed');
    assert.ok(promValue(command, 'collab_connections') >= 1, 'connections counted');
    assert.ok(promValue(command, 'collab_documents_open') >= 1, 'documents counted');
    assert.ok(promValue(command, 'collab_document_load_time_count') >= 1, 'loads timed');
    assert.ok(promValue(command, 'collab_presence_members', { where: 'local' }) >= 1, 'presence members');
    const relayed = await until('the other instance’s metrics', async () => {
      const text = await scrape(otherPort);
      return promValue(text, 'collab_op_remote_lag_count') >= OPS &&
        promValue(text, 'collab_client_resyncs_total', { reason: 'hash_mismatch' }) >= 1
        ? text
        : undefined;
    });
    assert.ok(promValue(relayed, 'collab_presence_remote_lag_count') >= 1, 'presence across instances');
    const projected = await until('the projection’s metrics', async () => {
      const text = await scrape(ports.projection);
      return promValue(text, 'collab_projection_ops_total') >= OPS ? text : undefined;
    });
    assert.ok(promValue(projected, 'collab_projection_batch_duration_count') >= 1, 'batches timed');
    assert.ok(projected.includes('collab_projection_lag_ops'), 'lag gauges');
    const snapshotted = await until('the snapshot-service’s metrics', async () => {
      const text = await scrape(ports.snapshot);
      return promValue(text, 'collab_snapshot_writes_total') >= 1 ? text : undefined;
    });
    // Every service says what it is the same way (service.name/version/instance.id on target_info) and exports
    // Node's own figures (event-loop utilization, heap) beside ours.
    for (const [name, text] of [
      [SERVICES.command, command],
      [SERVICES.projection, projected],
      [SERVICES.snapshot, snapshotted],
    ] as const) {
      const info = text.split('\n').find((line) => line.startsWith('target_info{')) ?? '';
      assert.match(info, new RegExp(`service_name="${name}"`), `${name}: service.name`);
      assert.match(info, /service_version="\d+\.\d+\.\d+"/, `${name}: service.version`);
      assert.match(info, /service_instance_id="[^"]+"/, `${name}: service.instance.id`);
      assert.ok(text.includes('nodejs_eventloop_utilization'), `${name}: Node runtime metrics`);
      assert.ok(text.includes('v8js_memory_heap_used'), `${name}: heap metrics`);
    }

    // The same instruments reach the OTLP receiver, under each service's name.
    await until('the OTLP metric exports of every service', () => {
      const ok =
        receiver.metricTotal(SERVICES.command, 'collab.op.ack_latency') >= OPS &&
        receiver.metricTotal(SERVICES.command, 'collab.op.remote_lag') >= OPS &&
        receiver.metricTotal(SERVICES.command, 'collab.client.resyncs') >= 1 &&
        receiver.metricTotal(SERVICES.projection, 'collab.projection.ops') >= OPS &&
        receiver.metricTotal(SERVICES.snapshot, 'collab.snapshot.writes') >= 1;
      return ok ? true : undefined;
    });
    const units = new Map(receiver.metrics.map((m) => [m.name, m.unit]));
    assert.equal(units.get('collab.op.ack_latency'), 's', 'durations in seconds, the base unit');
    assert.equal(units.get('collab.projection.batch_duration'), 's');
  });
});
