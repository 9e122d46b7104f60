/**
 * Migration files: `NNNN_description.cql` in one folder, applied in version order. A file's checksum is the
 * SHA-256 of its bytes, so any edit to an applied migration (even a comment) is noticed: applied migrations are
 * history, and a change to one belongs in a new file.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CollabError } from '@collab/core';

import { splitCqlStatements } from './cql-split.js';

export interface MigrationFile {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

// The package's folder: this module runs as src/*.ts (tsx) or as the build's dist/src/*.js (plain node).
const PACKAGE_ROOT = new URL(import.meta.url.includes('/dist/src/') ? '../../' : '../', import.meta.url);

/** The migrations shipped with this package. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('migrations/', PACKAGE_ROOT));

const FILE_NAME = /^(\d{4,})_([A-Za-z0-9_-]+)\.cql$/;

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.cql')).sort();
  const migrations: MigrationFile[] = [];
  for (const file of names) {
    const match = FILE_NAME.exec(file);
    if (match === null) {
      throw new CollabError('ERR_INVALID_ARGUMENT', `Migration file ${file} is not named NNNN_description.cql`);
    }
    const text = await readFile(join(dir, file), 'utf8');
    let statements: string[];
    try {
      statements = splitCqlStatements(text);
    } catch (cause) {
      throw new CollabError('ERR_INVALID_ARGUMENT', `Migration ${file}: ${(cause as Error).message}`, { cause });
    }
    const version = Number(match[1]);
    const previous = migrations.at(-1);
    if (previous !== undefined && previous.version === version) {
      throw new CollabError(
        'ERR_INVALID_ARGUMENT',
        `Two migrations have version ${version}: ${previous.name}, ${file}`,
      );
    }
    migrations.push({
      version,
      name: file,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements,
    });
  }
  return migrations;
}
