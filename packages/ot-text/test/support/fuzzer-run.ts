/**
 * Runs ot-fuzzer against the type. The fuzzer saves its state to `fuzzercrash.data` in the working folder, so we
 * run it inside a temporary directory (printed on failure). Its seed comes from the `SEED` variable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fuzzer from 'ot-fuzzer';
import { Doc, type } from '../../src/index.js';
import { randomOp } from './random.js';

export function runFuzzer(iterations: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'ot-fuzzer-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    // The generator draws from the fuzzer's own seeded generator so a run is reproducible from SEED.
    fuzzer(
      type,
      (snapshot: unknown) => {
        const [op, text] = randomOp(fuzzer.randomReal, Doc.from(snapshot).toString());
        return [op, type.create(text)];
      },
      iterations,
    );
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    (err as Error).message += `\n  (fuzzer state saved in ${dir}/fuzzercrash.data)`;
    throw err;
  } finally {
    process.chdir(cwd);
  }
}
