/**
 * Rebuilds a document's state from the op log: every committed op of the document, in version order.
 *
 * Today this scans the document's partition from its first offset, which is correct but grows with the
 * partition; the read side (snapshots + read-model ops + the unprojected tail of the log) replaces it when the
 * projection and snapshot services land, behind this same function.
 */
import type { DocumentState, OpLog } from '@collab/core';
import { evolve, initialState } from '@collab/core';

export async function loadFromLog(log: OpLog, docId: string, window: number): Promise<DocumentState> {
  const partition = log.partitionFor(docId);
  let state = initialState(docId);
  for await (const batch of log.read(partition, 0n)) {
    for (const record of batch) {
      if (record.value.docId !== docId) continue;
      // A version we already folded can only be a duplicate delivery; anything else out of order is corruption.
      if (record.value.version <= state.version) continue;
      state = evolve(state, record.value, window);
    }
  }
  return state;
}
