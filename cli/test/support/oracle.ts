/** Independent checks of exported histories: parse NDJSON, replay ops, convert Avro records back. */
import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import { Doc, type, type TextOp } from '@collab/ot-text';

export const parseNdjson = (text: string): OpCommitted[] =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as OpCommitted);

export function replayText(ops: readonly OpCommitted[]): string {
  let doc = Doc.fromString('');
  for (const op of ops) doc = type.apply(doc, op.op);
  return doc.toString();
}

/** Versions 1..n in order, and no (clientId, seq) twice. */
export function assertWellFormedHistory(ops: readonly OpCommitted[]): void {
  ops.forEach((op, i) => assert.equal(op.version, i + 1, `version ${i + 1} is missing or out of place`));
  const keys = new Set(ops.map((o) => `${o.clientId}:${o.seq}`));
  assert.equal(keys.size, ops.length, 'an op was committed twice (duplicate clientId, seq)');
}

interface AvroRecord extends Omit<OpCommitted, 'op'> {
  op: (number | string | { count: number; text: string | null })[];
  /** v2 on. */
  components?: { kind: 'retain' | 'insert' | 'delete'; count: number; text: string | null }[];
}

/**
 * An Avro record of the OpCommitted schema back to the JSON form, written here, not with the CLI's code: the op
 * from `components` when the record has them (v2), checked equal to the one from `op`; else from `op` (v1).
 */
export function fromAvro(record: AvroRecord): OpCommitted {
  const { components, ...rest } = record;
  const fromOp: TextOp = record.op.map((c) =>
    typeof c === 'number' || typeof c === 'string' ? c : { d: c.text === null ? c.count : c.text },
  );
  if (components === undefined || components.length === 0) return { ...rest, op: fromOp };
  const op: TextOp = components.map((c) =>
    c.kind === 'retain' ? c.count : c.kind === 'insert' ? c.text! : { d: c.text === null ? c.count : c.text },
  );
  assert.deepEqual(op, fromOp, `version ${record.version}: components and op disagree`);
  return { ...rest, op };
}
