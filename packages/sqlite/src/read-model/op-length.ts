/** How much an op changes a document's length, in code points: inserted minus deleted. Skips change nothing. */
import type { OpCommitted } from '@collab/core';
import { codePointLength } from '@collab/ot-text';

export function lengthDelta(op: OpCommitted['op']): number {
  let delta = 0;
  for (const c of op) {
    if (typeof c === 'string') delta += codePointLength(c);
    else if (typeof c === 'object') delta -= typeof c.d === 'number' ? c.d : codePointLength(c.d);
  }
  return delta;
}
