/**
 * Realistic OpCommitted streams for tests and the benchmark: many documents, each edited by a few users with
 * inserts (some astral code points), deletes and replacements at random positions of the current text, versions
 * dense from 1, timestamps rising. Seeded, so a failure can be replayed. The expected head of each document
 * (version, length in code points, last user, time) is tracked alongside.
 */
import { seededRandom } from '@collab/core';
import type { DocHead, OpCommitted } from '@collab/core';

/** mulberry32, seeded: see @collab/core. */
export const rng = seededRandom;

const WORDS = ['the ', 'quick ', 'brown ', 'fox ', 'jumps ', 'over ', 'lazy ', 'dog ', 'naïve ', 'café ', '👋 ', '𝄞 '];
const codePoints = (s: string) => [...s].length;

export interface GeneratedOps {
  /** In commit order (interleaved across documents, each document's versions in order). */
  ops: OpCommitted[];
  heads: Map<string, DocHead>;
}

export function generateOps(input: {
  documents: number;
  ops: number;
  seed?: number;
  prefix?: string;
  startTime?: number;
}): GeneratedOps {
  const random = rng(input.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const prefix = input.prefix ?? 'doc';
  const docs = Array.from({ length: input.documents }, (_, i) => ({
    docId: `${prefix}-${i}`,
    version: 0,
    length: 0,
  }));
  const seqs = new Map<string, number>();
  const heads = new Map<string, DocHead>();
  const ops: OpCommitted[] = [];
  let time = input.startTime ?? Date.UTC(2026, 10, 20, 9, 0, 0);
  for (let i = 0; i < input.ops; i++) {
    const doc = pick(docs);
    const user = `user-${Math.floor(random() * 7)}`;
    const clientId = `${user}-client`;
    const seq = (seqs.get(clientId) ?? 0) + 1;
    seqs.set(clientId, seq);
    // A few ms between ops, now and then a long pause (so versionAt crosses gaps and, sometimes, days).
    time += random() < 0.001 ? 30 * 3_600_000 : 1 + Math.floor(random() * 20);
    const pos = Math.floor(random() * (doc.length + 1));
    let op: OpCommitted['op'];
    let delta: number;
    const roll = random();
    if (doc.length > 0 && roll < 0.25) {
      const n = 1 + Math.floor(random() * Math.min(8, doc.length - Math.min(pos, doc.length - 1)));
      const at = Math.min(pos, doc.length - n);
      op = at > 0 ? [at, { d: n }] : [{ d: n }];
      delta = -n;
    } else if (doc.length > 0 && roll < 0.35) {
      const at = Math.min(pos, doc.length - 1);
      const word = pick(WORDS);
      op = at > 0 ? [at, { d: 1 }, word] : [{ d: 1 }, word];
      delta = codePoints(word) - 1;
    } else {
      const word = pick(WORDS);
      op = pos > 0 ? [pos, word] : [word];
      delta = codePoints(word);
    }
    doc.version += 1;
    doc.length += delta;
    ops.push({
      docId: doc.docId,
      version: doc.version,
      op,
      baseVersion: Math.max(0, doc.version - 1 - Math.floor(random() * 3)),
      clientId,
      seq,
      userId: user,
      timestamp: time,
    });
    heads.set(doc.docId, {
      docId: doc.docId,
      version: doc.version,
      length: doc.length,
      lastUserId: user,
      updatedAt: time,
    });
  }
  return { ops, heads };
}
