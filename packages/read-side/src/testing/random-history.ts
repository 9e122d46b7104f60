/**
 * Seeded random op histories for tests and benchmarks (exported as "@collab/read-side/testing"): inserts (with emoji and other astral characters, so
 * code-point counting is exercised), deletes and replacements, each valid for the text it applies to.
 */
import { seededRandom } from '@collab/core';
import type { OpCommitted } from '@collab/core';
import { type, type TextOp } from '@collab/ot-text';

/** mulberry32, seeded: see @collab/core. */
export const rng = seededRandom;

const PIECES = ['a', 'b', 'hello ', 'wörld', '\n', '😀', '👍🏽', '🇫🇷', '𝄞', '中文', ' ', 'é'];

export function randomOp(random: () => number, length: number): TextOp {
  const pos = Math.floor(random() * (length + 1));
  const insert = Array.from(
    { length: 1 + Math.floor(random() * 3) },
    () => PIECES[Math.floor(random() * PIECES.length)],
  ).join('');
  const canDelete = length - pos > 0;
  const roll = random();
  const op: TextOp = pos > 0 ? [pos] : [];
  if (canDelete && roll < 0.3) {
    op.push({ d: 1 + Math.floor(random() * Math.min(5, length - pos)) });
  } else if (canDelete && roll < 0.4) {
    op.push(insert, { d: 1 });
  } else {
    op.push(insert);
  }
  return op;
}

export interface GeneratedDoc {
  docId: string;
  ops: OpCommitted[];
  /** texts[v] = the text at version v (texts[0] = ''). */
  texts: string[];
}

/** A document's history of `count` ops, committed `stepMs` apart from `startMs`. */
export function generateHistory(
  docId: string,
  count: number,
  random: () => number,
  startMs = 1_700_000_000_000,
  stepMs = 1000,
): GeneratedDoc {
  let doc = type.create('');
  const ops: OpCommitted[] = [];
  const texts = [''];
  for (let version = 1; version <= count; version++) {
    const op = randomOp(random, doc.length);
    doc = type.apply(doc, op);
    texts.push(doc.toString());
    ops.push({
      docId,
      version,
      op,
      baseVersion: version - 1,
      clientId: `client-${version % 3}`,
      seq: version,
      userId: `user-${version % 3}`,
      timestamp: startMs + version * stepMs,
    });
  }
  return { docId, ops, texts };
}
