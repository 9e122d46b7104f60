/**
 * `npm run bench:load-medians -- reports/bench-load-A.json reports/bench-load-B.json …`: the median of several
 * runs of bench:load, per system — what docs/performance.md records, since one run on a shared 2-core box is
 * noise. Prints a Markdown table (the median, and the runs' spread as min–max) of the figures an operator pays
 * and waits for: acked ops/s, keystroke → ack p50/p95/p99, server CPU per acked op (and above idle), idle server
 * CPU, the load generator's CPU, and each server source's CPU per op.
 */
import { readFileSync } from 'node:fs';
import { cpuPerOp } from './report.js';
import type { RunResult } from './run-workload.js';

interface Report {
  options: { users: number; docs: number; rate: number; clients: string; instances?: number };
  results: RunResult[];
}

type Figure = (r: RunResult) => number | null;

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const FIGURES: [string, Figure, string][] = [
  ['acked ops/s', (r) => r.ackedOpsPerSecond, ''],
  ['keystroke → ack p50', (r) => r.submitToAck.p50, ' ms'],
  ['keystroke → ack p95', (r) => r.submitToAck.p95, ' ms'],
  ['keystroke → ack p99', (r) => r.submitToAck.p99, ' ms'],
  ['server CPU per acked op', (r) => cpuPerOp(r).servers.msPerOp, ' ms'],
  ['… above idle', (r) => cpuPerOp(r).servers.msPerOpAboveIdle, ' ms'],
  ['server CPU idle, users connected', (r) => cpuPerOp(r).servers.idleCores, ' cores'],
  ['server CPU typing', (r) => cpuPerOp(r).servers.typingCores, ' cores'],
  ['load generator CPU typing', (r) => cpuPerOp(r).loadGeneratorCores, ' cores'],
];

/** Container names carry the stack's run id: group sources by their role in the name instead. */
const sourceKey = (name: string) => name.replace(/^collab-it-[^-]+-[^-]+-/, '');

const fmt = (x: number | null, unit: string) => (x === null ? '–' : `${Math.round(x * 1000) / 1000}${unit}`);

export function mediansTable(reports: readonly Report[]): string {
  const bySystem = new Map<string, RunResult[]>();
  for (const report of reports) {
    for (const r of report.results) bySystem.set(r.target, [...(bySystem.get(r.target) ?? []), r]);
  }
  const systems = [...bySystem.keys()];
  const cell = (runs: RunResult[], figure: Figure, unit: string) => {
    const xs = runs.map(figure).filter((x): x is number => x !== null);
    if (xs.length === 0) return '–';
    const spread = xs.length > 1 ? ` (${fmt(Math.min(...xs), '')}–${fmt(Math.max(...xs), '')})` : '';
    return `${fmt(median(xs), unit)}${spread}`;
  };
  const rows = FIGURES.map(([name, figure, unit]) => [
    name,
    ...systems.map((s) => cell(bySystem.get(s)!, figure, unit)),
  ]);
  // Each server process and container: CPU ms per acked op.
  const sources = new Set<string>();
  for (const runs of bySystem.values()) {
    for (const r of runs)
      for (const s of cpuPerOp(r).sources) if (s.role !== 'load generator') sources.add(sourceKey(s.name));
  }
  for (const source of sources) {
    const figure: Figure = (r) => cpuPerOp(r).sources.find((s) => sourceKey(s.name) === source)?.msPerOp ?? null;
    rows.push([`CPU per op: ${source}`, ...systems.map((s) => cell(bySystem.get(s)!, figure, ' ms'))]);
  }
  const first = reports[0]?.options;
  const header = ['', ...systems.map((s) => `${s} (${bySystem.get(s)!.length} runs)`)];
  return [
    first === undefined
      ? ''
      : `${first.users} users, ${first.docs} documents, --rate ${first.rate}, --clients ${first.clients}, ` +
        `--instances ${first.instances ?? 1}; median (min–max)`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run bench:load-medians -- reports/bench-load-*.json');
    process.exit(2);
  }
  console.log(mediansTable(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Report)));
}
