/**
 * Carries out the schedule (schedule.ts) on the running system: each planned fault starts at its time, lasts its
 * while and is undone; one that finds its target still held by another (a restart that took longer than planned)
 * waits for it. Every fault is recorded with when it really started and ended, for the recovery figures and for
 * the checker's report (which faults were active around a violation).
 */
import { probeUntil } from '@collab/infra';
import { Kafka, logLevel } from 'kafkajs';
import type { Isolation } from './isolation.js';
import { startContainer, stopContainer } from './isolation.js';
import { describeFault, locksOf, type PlannedFault } from './schedule.js';
import type { System } from './system.js';
import { OPS_TOPIC } from './system.js';

export interface FaultRecord {
  fault: PlannedFault;
  /** What it hit (a broker number, a container). */
  detail: string;
  startedAt: number;
  endedAt?: number;
  /** Back to normal (restarted and ready, replicas in sync), when that is later than the end. */
  recoveredAt?: number;
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  private readonly held = new Map<string, Promise<void>>();

  constructor(
    private readonly system: System,
    private readonly isolation: Isolation,
    private readonly say: (line: string) => void,
  ) {}

  /** Runs the whole plan from `t0`; resolves once every fault has ended and been undone. */
  async run(plan: readonly PlannedFault[], t0: number): Promise<void> {
    await Promise.all(plan.map((fault) => this.one(fault, t0)));
  }

  /** The faults active (started, not yet recovered) at `at`. */
  activeAt(at: number): FaultRecord[] {
    return this.records.filter((r) => r.startedAt <= at && at <= (r.recoveredAt ?? r.endedAt ?? Infinity));
  }

  private async one(fault: PlannedFault, t0: number): Promise<void> {
    await sleep(Math.max(0, t0 + fault.atMs - Date.now()));
    const locks = locksOf(fault);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    await this.acquire(locks, done);
    const record: FaultRecord = { fault, detail: '', startedAt: Date.now() };
    this.records.push(record);
    // A broker named only at injection (the busiest partition's leader, the coordinator) is locked then, so
    // that a slow link is not put on a broker that is down (its container has no network namespace to shape).
    const lockLater = async (lock: string) => {
      await this.acquire([lock], done);
      locks.push(lock);
    };
    try {
      await this.inject(fault, record, lockLater);
    } catch (err) {
      record.error = (err as Error).message;
      this.say(`  ! ${describeFault(fault)}: ${record.error.split('\n')[0]}`);
    } finally {
      record.endedAt ??= Date.now();
      for (const l of locks) this.held.delete(l);
      release();
    }
  }

  /** Waits until none of `locks` is held, then holds them all until `until` (released by the caller). */
  private async acquire(locks: readonly string[], until: Promise<void>): Promise<void> {
    for (;;) {
      const busy = locks.map((l) => this.held.get(l)).filter((p) => p !== undefined);
      if (busy.length === 0) break;
      await Promise.all(busy);
    }
    for (const l of locks) this.held.set(l, until);
  }

  private async inject(
    fault: PlannedFault,
    record: FaultRecord,
    lockLater: (lock: string) => Promise<void>,
  ): Promise<void> {
    const { system, isolation } = this;
    const log = (what: string) =>
      this.say(`  ${new Date().toISOString().slice(11, 19)} ${what} (${describeFault(fault)} ${fault.durationMs} ms)`);
    switch (fault.kind) {
      case 'kill-service': {
        const service = system.services.get(fault.target)!;
        log(`SIGKILL ${fault.target}`);
        await service.kill();
        await sleep(fault.durationMs);
        record.endedAt = Date.now();
        await system.services.get(fault.target)!.startWithRetry(240_000, this.say);
        record.recoveredAt = Date.now();
        log(`${fault.target} started again`);
        return;
      }
      case 'pause-service': {
        const service = system.services.get(fault.target)!;
        log(`SIGSTOP ${fault.target}`);
        service.pause();
        await sleep(fault.durationMs);
        service.resume();
        log(`SIGCONT ${fault.target}`);
        return;
      }
      case 'kill-broker': {
        const node = await this.brokerFor(fault.target);
        await lockLater(`broker-${node}`);
        record.detail = `broker ${node}`;
        log(`SIGKILL broker ${node}`);
        await system.cluster.kill(node);
        await sleep(fault.durationMs);
        record.endedAt = Date.now();
        await system.cluster.restart(node);
        await system.cluster.awaitInSync([OPS_TOPIC, 'chaos.commands', 'chaos.replies'], 180_000);
        record.recoveredAt = Date.now();
        log(`broker ${node} back and in sync`);
        return;
      }
      case 'stop-store': {
        const container = system.containers[fault.target]!;
        record.detail = container;
        // Redis and S3 are killed (SIGKILL). Cassandra is stopped cleanly: our test image does not fsync its
        // system keyspace (-Dcassandra.unsafesystem=true, for fast schema changes), so a kill would lose the
        // schema itself; a production node syncs it, and its data writes' durability is the commit log's.
        const grace = fault.target === 'cassandra' ? 60 : 0;
        log(`docker stop -t ${grace} ${fault.target}`);
        await stopContainer(container, grace);
        await sleep(fault.durationMs);
        record.endedAt = Date.now();
        await startContainer(container);
        // Recovered once it serves a real request (a CQL query, a PING, a bucket listing): docker-proxy accepts
        // connections on the host port at once, long before the server behind it answers.
        await probeUntil(fault.target, system.stack.endpoints, Date.now() + 180_000);
        record.recoveredAt = Date.now();
        log(`${fault.target} started again`);
        return;
      }
      case 'partition': {
        log(`partition ${fault.target} | brokers`);
        await isolation.partition(fault.target, system.brokerPorts);
        await sleep(fault.durationMs);
        await isolation.heal(fault.target);
        log(`partition of ${fault.target} healed`);
        return;
      }
      case 'slow-broker': {
        const container = system.containers[fault.target]!;
        record.detail = container;
        log(`slow link out of ${fault.target}`);
        await isolation.slowLink(container);
        await sleep(fault.durationMs);
        await isolation.fastLink(container);
        log(`${fault.target}'s link back to normal`);
        return;
      }
    }
  }

  /** The broker a "kill the leader" means: the leader of the ops partition with the most records. */
  private async brokerFor(target: string): Promise<number> {
    if (target.startsWith('broker-')) return Number(target.slice('broker-'.length));
    if (target === 'coordinator') {
      const node = await this.system.cluster.transactionCoordinator();
      if (node !== undefined) return node;
    }
    const admin = new Kafka({
      clientId: 'chaos-faults',
      brokers: this.system.cluster.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    }).admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(OPS_TOPIC);
      const busiest = offsets.sort((a, b) => Number(b.high) - Number(a.high))[0]!.partition;
      const leader = await this.system.cluster.leaderOf(OPS_TOPIC, busiest);
      if (leader === undefined) throw new Error(`no leader of ${OPS_TOPIC}/${busiest} right now`);
      return leader;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
