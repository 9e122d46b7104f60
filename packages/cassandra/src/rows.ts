/** Decoding rows: bigint columns arrive as driver `Long`s, timestamps as `Date`s, the op as JSON text. */
import type { types } from 'cassandra-driver';

import { CollabError } from '@collab/core';
import type { OpCommitted } from '@collab/core';

const corrupt = (what: string, cause?: unknown): CollabError =>
  new CollabError('ERR_CORRUPT', `Cassandra read model: ${what}`, { cause, retriable: false });

export function num(row: types.Row, column: string): number {
  const value: unknown = row.get(column);
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'object' && value !== null && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  throw corrupt(`column ${column} is ${String(value)}, expected a number`);
}

export function str(row: types.Row, column: string): string {
  const value: unknown = row.get(column);
  if (typeof value !== 'string') throw corrupt(`column ${column} is ${String(value)}, expected text`);
  return value;
}

export function parseOp(row: types.Row): OpCommitted['op'] {
  const text = str(row, 'op');
  try {
    const op: unknown = JSON.parse(text);
    if (!Array.isArray(op)) throw new Error('not a list of components');
    return op as OpCommitted['op'];
  } catch (cause) {
    throw corrupt(`op at version ${num(row, 'version')} is not a JSON op`, cause);
  }
}

export function toOpCommitted(docId: string, row: types.Row): OpCommitted {
  return {
    docId,
    version: num(row, 'version'),
    op: parseOp(row),
    baseVersion: num(row, 'base_version'),
    clientId: str(row, 'client_id'),
    seq: num(row, 'seq'),
    userId: str(row, 'user_id'),
    timestamp: num(row, 'ts'),
  };
}
