/**
 * The checker's own way to apply an op, written from docs/ot.md ("Applying the ops") and nothing else, so the
 * verdict does not rest on the OT code under test: an op is a list of components over Unicode code points — a
 * positive number skips that many, a string inserts it, `{d: text | count}` deletes that many (the text, when
 * given, must be what is there). Skipping or deleting past the end is an error, as is an empty component.
 */

export type OpComponent = number | string | { d: string | number };

export class ReplayError extends Error {}

/** The text after `op`, from `codePoints` (the text before it, one entry per code point). */
export function applyOp(codePoints: readonly string[], op: readonly OpComponent[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      if (!Number.isSafeInteger(c) || c <= 0) throw new ReplayError(`bad skip ${c}`);
      if (at + c > codePoints.length)
        throw new ReplayError(`skip of ${c} at ${at} past the end (${codePoints.length})`);
      for (let i = 0; i < c; i++) out.push(codePoints[at + i]!);
      at += c;
    } else if (typeof c === 'string') {
      if (c === '') throw new ReplayError('empty insert');
      out.push(...c);
    } else {
      const count = typeof c.d === 'number' ? c.d : [...c.d].length;
      if (!Number.isSafeInteger(count) || count <= 0) throw new ReplayError(`bad delete ${JSON.stringify(c)}`);
      if (at + count > codePoints.length) throw new ReplayError(`delete of ${count} at ${at} past the end`);
      if (typeof c.d === 'string' && codePoints.slice(at, at + count).join('') !== c.d) {
        throw new ReplayError(`delete of ${JSON.stringify(c.d)} at ${at} where the text differs`);
      }
      at += count;
    }
  }
  for (let i = at; i < codePoints.length; i++) out.push(codePoints[i]!);
  return out;
}

/** Every version's text is not kept: the replay gives the final text and the text at chosen versions. */
export function replayText(
  ops: readonly { version: number; op: readonly OpComponent[] }[],
  keepVersions: ReadonlySet<number> = new Set(),
): { text: string; at: Map<number, string> } {
  let text: string[] = [];
  const at = new Map<number, string>();
  if (keepVersions.has(0)) at.set(0, '');
  for (const { version, op } of ops) {
    text = applyOp(text, op);
    if (keepVersions.has(version)) at.set(version, text.join(''));
  }
  return { text: text.join(''), at };
}
