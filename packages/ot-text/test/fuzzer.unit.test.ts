/**
 * ot-fuzzer, the classic OT bug hound: random ops on three replicas, checking apply, compose, invert, the diamond
 * property (TP1) and n×m list transforms.
 */
import assert from 'node:assert/strict';
import { runFuzzer } from './support/fuzzer-run.js';

const ITERATIONS = Number(process.env.OT_FUZZ_ITERATIONS ?? 3000);

describe('ot-fuzzer', () => {
  it(`survives ${ITERATIONS} iterations`, () => {
    assert.doesNotThrow(() => runFuzzer(ITERATIONS));
  });
});
