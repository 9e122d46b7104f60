/** Small op records for the package's own tests. */
import type { AppendInput, OpCommitted, OpLog } from '@collab/core';

export function op(docId: string, version: number, extra: Partial<OpCommitted> = {}): OpCommitted {
  return {
    docId,
    version,
    op: version === 1 ? ['x'] : [version - 1, 'x'],
    baseVersion: version - 1,
    clientId: 'client-1',
    seq: version,
    userId: 'user-1',
    timestamp: 1_764_230_400_000 + version,
    ...extra,
  };
}

export const input = (docId: string, version: number, headers?: Record<string, string>): AppendInput =>
  headers === undefined ? { value: op(docId, version) } : { value: op(docId, version), headers };

/** A document id that `log` puts in `partition` (deterministic for a given prefix). */
export function docIn(log: Pick<OpLog, 'partitionFor'>, partition: number, prefix = 'doc'): string {
  for (let i = 0; i < 100_000; i++) {
    if (log.partitionFor(`${prefix}-${i}`) === partition) return `${prefix}-${i}`;
  }
  throw new Error(`no document in partition ${partition}`);
}
