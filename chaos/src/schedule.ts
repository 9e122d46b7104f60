/**
 * The fault schedule: a pure function of the seed and the run's length, so a failing run is replayed exactly
 * (`--seed`). Faults start at random gaps (exponential, mean `meanGapMs`) and last a random while, so they overlap;
 * two faults never hold the same target at once, and at most one broker is down at a time (with three replicas
 * and min.insync.replicas=2, a second one down would refuse every write: an outage by design, not a fault to
 * survive). Nothing starts in the first `warmupMs` (users connect and type) or the last `cooldownMs` (the system
 * must settle before the checker runs).
 */

export const SERVICES = ['command-1', 'command-2', 'projection', 'snapshot'] as const;
export const STORES = ['cassandra', 'redis', 's3'] as const;
export const COMMAND_INSTANCES = ['command-1', 'command-2'] as const;

export type Fault =
  /** SIGKILL of a service process; started again after `durationMs`. */
  | { kind: 'kill-service'; target: (typeof SERVICES)[number] }
  /** SIGSTOP of a service process; SIGCONT after `durationMs`. */
  | { kind: 'pause-service'; target: (typeof SERVICES)[number] }
  /** SIGKILL of a broker (the leader of the busiest ops partition, the transaction coordinator, or the one
   * numbered); `docker start` after `durationMs`, then every replica back in sync before the next broker fault. */
  | { kind: 'kill-broker'; target: 'leader' | 'coordinator' | `broker-${number}` }
  /** `docker stop -t 0` of a store; `docker start` after `durationMs`. */
  | { kind: 'stop-store'; target: (typeof STORES)[number] }
  /** The instance's packets to the brokers dropped for `durationMs`. */
  | { kind: 'partition'; target: (typeof COMMAND_INSTANCES)[number] }
  /** A slow link out of one broker for `durationMs`. */
  | { kind: 'slow-broker'; target: `broker-${number}` };

export type FaultKind = Fault['kind'];

export type PlannedFault = Fault & { atMs: number; durationMs: number };

export interface ScheduleOptions {
  runMs: number;
  warmupMs: number;
  cooldownMs: number;
  meanGapMs: number;
  brokers: number;
}

const DURATIONS: Record<FaultKind, [number, number]> = {
  'kill-service': [1_000, 8_000],
  'pause-service': [3_000, 12_000],
  'kill-broker': [5_000, 20_000],
  'stop-store': [5_000, 20_000],
  partition: [5_000, 20_000],
  'slow-broker': [10_000, 30_000],
};

const WEIGHTS: Array<[FaultKind, number]> = [
  ['kill-service', 3],
  ['pause-service', 2],
  ['kill-broker', 2],
  ['stop-store', 2],
  ['partition', 2],
  ['slow-broker', 1],
];

/** What a fault holds while it lasts: no other fault may hold the same thing. */
export function locksOf(fault: Fault): string[] {
  switch (fault.kind) {
    case 'kill-service':
    case 'pause-service':
    case 'partition':
      return [fault.target];
    case 'kill-broker':
      return ['broker-down'];
    case 'stop-store':
      return [fault.target];
    case 'slow-broker':
      return ['broker-slow', fault.target];
  }
}

/** A broker fault also needs time to get back in sync after its end: the lock is held this much longer. */
const RECOVERY_MS: Partial<Record<FaultKind, number>> = { 'kill-broker': 20_000, 'stop-store': 30_000 };

export function planFaults(random: () => number, options: ScheduleOptions): PlannedFault[] {
  const { runMs, warmupMs, cooldownMs, meanGapMs, brokers } = options;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
  const kind = (): FaultKind => {
    let r = random() * total;
    for (const [k, w] of WEIGHTS) if ((r -= w) < 0) return k;
    return WEIGHTS[0]![0];
  };
  const broker = (): `broker-${number}` => `broker-${1 + Math.floor(random() * brokers)}`;
  const fault = (k: FaultKind): Fault => {
    switch (k) {
      case 'kill-service':
        return { kind: k, target: pick(SERVICES) };
      case 'pause-service':
        return { kind: k, target: pick(SERVICES) };
      case 'kill-broker':
        return { kind: k, target: pick(['leader', 'coordinator', broker()] as const) };
      case 'stop-store':
        return { kind: k, target: pick(STORES) };
      case 'partition':
        return { kind: k, target: pick(COMMAND_INSTANCES) };
      case 'slow-broker':
        return { kind: k, target: broker() };
    }
  };
  const busyUntil = new Map<string, number>();
  const planned: PlannedFault[] = [];
  const lastStart = runMs - cooldownMs;
  for (let at = warmupMs + Math.floor(-Math.log(1 - random()) * meanGapMs); at < lastStart;) {
    const f = fault(kind());
    const [min, max] = DURATIONS[f.kind];
    // Ends before the cool-down starts, however long it was drawn (or is not planned, if even its shortest would not).
    const durationMs = Math.min(min + Math.floor(random() * (max - min)), lastStart - at);
    const locks = locksOf(f);
    if (durationMs >= min && locks.every((l) => (busyUntil.get(l) ?? 0) <= at)) {
      planned.push({ ...f, atMs: at, durationMs });
      for (const l of locks) busyUntil.set(l, at + durationMs + (RECOVERY_MS[f.kind] ?? 0));
    }
    at += 1 + Math.floor(-Math.log(1 - random()) * meanGapMs);
  }
  return planned;
}

export const describeFault = (f: Fault): string => `${f.kind} ${f.target}`;
