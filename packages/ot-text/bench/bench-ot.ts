/**
 * `npm run bench:ot` — how fast the OT type is, next to its peers in the same run.
 *
 *   1. every sequential editing trace replayed through our rope (type.apply), ot-text-unicode (strings), Yjs
 *      (Y.Text) and naive string slicing — identical input (the ASCII-only copies, so UTF-16 engines see the same
 *      positions), each result checked against endContent; median ms of several runs, ops/s, ratios;
 *   2. both concurrent traces through the central-server simulation;
 *   3. one insert in the middle of a 100 MB document (median µs over many inserts);
 *   4. heap bytes per byte of text for a 10 MB document.
 *
 * Traces: josephg/editing-traces, CC BY 4.0 (authors in ../shared/traces/CREDITS.md). Flags: --runs N (default 5),
 * --quick (fewer runs, 10 MB instead of 100 MB). Run with --expose-gc for the memory figure (the npm script does).
 */
import { parseArgs } from 'node:util';
import { insertOp, type } from '../src/index.js';
import { replayConcurrent } from '../test/support/replay-concurrent.js';
import type { ConcurrentTrace, SequentialTrace } from '../test/support/traces.js';
import { listSequentialTraces, loadTrace, MISSING_TRACES_MESSAGE, tracesDir } from '../test/support/traces.js';
import { engines } from './engines.js';
import { fmt, median, timeRuns } from './stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run bench:ot -- [--runs N] [--quick]\n  Replays editing traces through the OT type and its peers.',
  );
  process.exit(0);
}
const runs = args.quick ? 2 : Number(args.runs);
const dir = tracesDir();
if (dir === undefined) {
  console.error(MISSING_TRACES_MESSAGE);
  process.exit(2);
}

// Start each measurement with a clean heap: the reference engine leaves hundreds of MB of garbage behind.
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

console.log(`# OT benchmark — node ${process.version}, ${runs} runs per engine (median)\n`);
// First, on a fresh heap: the sequential section's reference engine leaves a large heap behind.
collect();
console.log('## Concurrent traces through the central-server simulation\n');
for (const name of ['friendsforever', 'clownschool']) {
  const trace = loadTrace<ConcurrentTrace>(dir, 'concurrent_traces', name);
  let ok = false;
  replayConcurrent(trace); // one untimed warm-up run: the timed runs measure compiled code, not the JIT
  const times = timeRuns(runs, 20_000, () => {
    const r = replayConcurrent(trace);
    ok = r.server === trace.endContent && r.clients.every((c) => c === trace.endContent);
  });
  console.log(`  ${name.padEnd(16)} ${fmt(median(times)).padStart(9)} ms  ${trace.txns.length} txns  converged: ${ok}`);
}
console.log();

console.log('## Sequential traces (ASCII-only copies; all engines, same patches)\n');
for (const name of listSequentialTraces(dir)) {
  const trace = loadTrace<SequentialTrace>(dir, 'sequential_traces', `ascii_only/${name}`);
  const patches = trace.txns.reduce((n, t) => n + t.patches.length, 0);
  console.log(`### ${name}: ${fmt(patches, 0)} patches, ${fmt(trace.endContent.length, 0)} chars at the end`);
  const results: Array<[string, number]> = [];
  for (const engine of engines) {
    collect();
    let out = '';
    const times = timeRuns(runs, 15_000, () => {
      out = engine.replay(trace);
    });
    if (out !== trace.endContent) throw new Error(`${engine.name} did not reach endContent on ${name}`);
    results.push([engine.name, median(times)]);
  }
  const ours = results[0]![1];
  for (const [engine, ms] of results) {
    const ratio = engine === results[0]![0] ? '' : `  (ours is ${fmt(ms / ours, 1)}× faster)`;
    console.log(
      `  ${engine.padEnd(28)} ${fmt(ms).padStart(9)} ms  ${fmt(patches / (ms / 1000), 0).padStart(12)} ops/s${ratio}`,
    );
  }
  console.log();
}

const bigMb = args.quick ? 10 : 100;
console.log(`## One insert in the middle of a ${bigMb} MB document\n`);
{
  const words = ['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet\n', 'consectetur ', 'adipiscing ', 'elit '];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bigMb * 1024 * 1024; i++) {
    const w = words[(i * 7919) % words.length]!;
    parts.push(w);
    size += w.length;
  }
  const t0 = performance.now();
  const doc = type.create(parts.join(''));
  const createMs = performance.now() - t0;
  const samples: number[] = [];
  let current = doc;
  for (let i = 0; i < 2000; i++) {
    const pos = (current.length >> 1) + ((i * 104729) % 1000);
    const t = process.hrtime.bigint();
    current = type.apply(current, [pos, 'x']);
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  console.log(`  built from a string in ${fmt(createMs)} ms; ${fmt(doc.length, 0)} code points`);
  console.log(`  middle insert: median ${fmt(median(samples), 2)} µs over ${samples.length} inserts`);
}
console.log();

console.log('## Memory for a 10 MB document\n');
measureMemory();

/** In functions, not module scope: module-scope temporaries stay reachable and would be counted. */
function makeAsciiText(bytes: number): string {
  const chunks: string[] = [];
  for (let i = 0; i < bytes; i += 64) chunks.push(`${i.toString(36).padEnd(63, '.')}\n`);
  return chunks.join('').slice(0, bytes);
}

function measureMemory(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    console.log('  (skipped: run node with --expose-gc)');
    return;
  }
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const bytes = 10 * 1024 * 1024; // ASCII: one UTF-8 byte per character
  const before = heap();
  let doc = type.create(makeAsciiText(bytes));
  const afterCreate = heap();
  for (let i = 0; i < 20_000; i++) doc = type.apply(doc, insertOp((i * 7919) % doc.length, 'y'));
  const afterEdits = heap();
  console.log(`  fresh document:      ${fmt((afterCreate - before) / bytes, 2)} heap bytes per byte of text`);
  console.log(`  after 20,000 edits:  ${fmt((afterEdits - before) / bytes, 2)} heap bytes per byte of text`);
  if (doc.length < bytes) throw new Error('unreachable: keeps the document alive until measured');
}
