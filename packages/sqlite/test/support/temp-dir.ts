/** A temporary directory per test file run, removed with everything in it when the run ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function useTempDir(prefix: string): { path(name: string): string } {
  let dir: string | undefined;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `collab-sqlite-${prefix}-`));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    /** A fresh path in the directory: `name` plus a counter, so every call is a new database file. */
    path(name: string): string {
      if (dir === undefined) throw new Error('useTempDir: only inside a test or hook');
      return join(dir, `${name}-${++n}.sqlite`);
    },
  };
}
