/**
 * `npm run fuzz -- [--iterations N] [--seed S]` — a long ot-fuzzer run (the test suite runs a few thousand
 * iterations; this is for overnight-style runs). On a crash the fuzzer state is saved and its path printed.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run fuzz -- [--iterations N] [--seed S]\n  Runs ot-fuzzer against @collab/ot-text.');
  process.exit(0);
}
// ot-fuzzer reads SEED when it is first loaded, so set it before importing.
if (values.seed !== undefined) process.env.SEED = values.seed;
const { runFuzzer } = await import('../test/support/fuzzer-run.js');
runFuzzer(Number(values.iterations));
console.log(`ok: ${values.iterations} iterations, seed ${process.env.SEED ?? 1}`);
