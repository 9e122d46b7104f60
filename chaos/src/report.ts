/**
 * The run's report: the verdict, the recovery figures per fault kind (time from each fault to the first ack after
 * it, the longest pause in acks while it lasted), ops refused vs lost, and for each violation the shortest history
 * that shows it — the log's records around the versions involved, with the faults active when they committed.
 */
import type { OpCommitted } from '@collab/core';
import type { TimedAck } from './ack-recorder.js';
import type { Violation } from './acked-ops.js';
import type { FaultRecord } from './faults.js';
import { describeFault, type FaultKind } from './schedule.js';

export interface RecoveryFigures {
  kind: FaultKind;
  count: number;
  /** Fault start → first ack anywhere after it (median, max), ms. */
  firstAckMs: [number, number];
  /** Longest gap between acks from the fault's start to 10 s after it was undone (median, max), ms. */
  longestPauseMs: [number, number];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};

export function recoveryFigures(records: readonly FaultRecord[], acks: readonly TimedAck[]): RecoveryFigures[] {
  const times = acks.map((a) => a.atMs).sort((a, b) => a - b);
  const byKind = new Map<FaultKind, { first: number[]; pause: number[] }>();
  for (const r of records) {
    const end = (r.recoveredAt ?? r.endedAt ?? r.startedAt) + 10_000;
    const after = times.find((t) => t >= r.startedAt);
    let longest = 0;
    let previous = r.startedAt;
    for (const t of times) {
      if (t < r.startedAt) continue;
      if (t > end) break;
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    longest = Math.max(longest, Math.min(end, times.at(-1) ?? end) - previous);
    const entry = byKind.get(r.fault.kind) ?? { first: [], pause: [] };
    if (after !== undefined) entry.first.push(after - r.startedAt);
    entry.pause.push(longest);
    byKind.set(r.fault.kind, entry);
  }
  return [...byKind].map(([kind, { first, pause }]) => ({
    kind,
    count: pause.length,
    firstAckMs: [median(first), Math.max(...first)],
    longestPauseMs: [median(pause), Math.max(...pause)],
  }));
}

/** The log around a violation (two records either side of each version named) and the faults active then. */
export function violationHistory(
  violation: Violation,
  log: ReadonlyMap<string, readonly OpCommitted[]>,
  activeAt: (at: number) => FaultRecord[],
): string[] {
  const records = log.get(violation.docId) ?? [];
  const wanted = new Set<number>();
  for (const v of violation.versions)
    for (let x = v - 2; x <= v + 2; x++) if (x >= 1 && x <= records.length) wanted.add(x);
  const lines = [violation.message];
  for (const version of [...wanted].sort((a, b) => a - b)) {
    const r = records[version - 1]!;
    const faults = activeAt(r.timestamp).map((f) => describeFault(f.fault));
    const op = JSON.stringify(r.op);
    lines.push(
      `    v${r.version} ${new Date(r.timestamp).toISOString().slice(11, 23)} ${r.clientId} seq ${r.seq} ` +
        `${op.length > 60 ? `${op.slice(0, 57)}...` : op}${faults.length > 0 ? `  [during: ${faults.join(', ')}]` : ''}`,
    );
  }
  return lines;
}

export function formatRecovery(figures: readonly RecoveryFigures[]): string[] {
  const rows = figures.map(
    (f) =>
      `  ${f.kind.padEnd(14)} ${String(f.count).padStart(3)}  first ack ${fmt(f.firstAckMs)}  longest pause ${fmt(f.longestPauseMs)}`,
  );
  return ['recovery per fault kind (median / max, ms):', ...rows];
}

const fmt = ([m, x]: [number, number]): string =>
  `${String(Math.round(m)).padStart(6)} / ${String(Math.round(x)).padStart(6)}`;
