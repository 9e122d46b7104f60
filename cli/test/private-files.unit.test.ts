/** The data folder and its files are created for their owner only; an existing folder is reported, never chmod-ed. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from '../src/storage/private-files.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('private data folder', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'collab-private-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates the folder and its missing parents 0700, and a file 0600 (left alone when it exists)', () => {
    const dir = join(root, 'a', 'data');
    assert.equal(ensurePrivateDir(dir), undefined);
    assert.equal(modeOf(dir), '700');
    assert.equal(modeOf(join(root, 'a')), '700');
    const file = join(dir, 'collab.db');
    ensurePrivateFile(file);
    assert.equal(modeOf(file), '600');
    writeFileSync(file, 'kept');
    ensurePrivateFile(file);
    assert.equal(readFileSync(file, 'utf8'), 'kept');
  });

  it('reports an existing folder open to others without changing it', () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    assert.match(ensurePrivateDir(dir) ?? '', /open to other users \(mode 755\)/);
    assert.equal(modeOf(dir), '755');
    chmodSync(dir, 0o700);
    assert.equal(ensurePrivateDir(dir), undefined);
  });
});
