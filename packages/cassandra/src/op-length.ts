/**
 * How much an op changes a document's length, in code points: inserted minus deleted. Skips change nothing.
 * Computed here rather than imported from @collab/ot-text (componentLength) because it is a few lines and keeps
 * the adapter depending on the core and the driver only.
 */
import type { OpCommitted } from '@collab/core';

type TextOp = OpCommitted['op'];

const codePoints = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
};

export function lengthDelta(op: TextOp): number {
  let delta = 0;
  for (const c of op) {
    if (typeof c === 'string') delta += codePoints(c);
    else if (typeof c === 'object') delta -= typeof c.d === 'number' ? c.d : codePoints(c.d);
  }
  return delta;
}
