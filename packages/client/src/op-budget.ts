/**
 * How big an op may be on the wire, and how to cut one that is too big into several that apply in sequence.
 *
 * The server rejects (non-retriably) an op that inserts more than `maxOpInsertLength` code points, has more than
 * its component limit, or travels in a frame over `maxFrameBytes`. A paste, or a long stretch of offline typing
 * composed into one op, can break any of the three, so the client keeps every op it sends inside all of them.
 */
import type { TextOp, TextOpComponent } from '@collab/ot-text';
import { codePointLength } from '@collab/ot-text';

export interface OpBudget {
  /** Most code points one op may insert (the server's `maxOpInsertLength`). */
  maxInsert: number;
  /** Most UTF-8 bytes of the op's JSON (the frame limit minus room for the submit envelope). */
  maxBytes: number;
  /** Most components one op may have (the server's default limit is 2048; we stay well below). */
  maxComponents: number;
}

/** Room for `{"t":"submit","docId":…,"clientId":…,"seq":…,"baseVersion":…,"op":…}` with the longest ids. */
export const SUBMIT_ENVELOPE_BYTES = 1024;

export const DEFAULT_BUDGET: OpBudget = {
  maxInsert: 64 * 1024,
  maxBytes: 256 * 1024 - SUBMIT_ENVELOPE_BYTES,
  maxComponents: 1024,
};

export function budgetFromLimits(limits: { maxOpInsertLength: number; maxFrameBytes: number }): OpBudget {
  return {
    maxInsert: Math.max(1, limits.maxOpInsertLength),
    // A code point costs at most 6 bytes in JSON (a control character as \u00XX); keep room for at least one.
    maxBytes: Math.max(64, limits.maxFrameBytes - SUBMIT_ENVELOPE_BYTES),
    maxComponents: DEFAULT_BUDGET.maxComponents,
  };
}

/** UTF-8 bytes that JSON.stringify spends on code point `cp` inside a string literal. */
function jsonCodePointBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2; // \" and \\
  if (cp < 0x20) return cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d ? 2 : 6;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

/** UTF-8 bytes of JSON.stringify(s) for well-formed `s`, without building it. */
export function jsonStringBytes(s: string): number {
  let n = 2;
  for (const ch of s) n += jsonCodePointBytes(ch.codePointAt(0)!);
  return n;
}

const componentBytes = (c: TextOpComponent): number =>
  typeof c === 'number'
    ? String(c).length
    : typeof c === 'string'
      ? jsonStringBytes(c)
      : 6 + (typeof c.d === 'number' ? String(c.d).length : jsonStringBytes(c.d));

/** UTF-8 bytes of JSON.stringify(op). */
export function opBytes(op: TextOp): number {
  let n = 1 + Math.max(0, op.length - 1) + 1; // brackets and commas
  for (const c of op) n += componentBytes(c);
  return n;
}

export function insertedLength(op: TextOp): number {
  let n = 0;
  for (const c of op) if (typeof c === 'string') n += codePointLength(c);
  return n;
}

export const fitsBudget = (op: TextOp, budget: OpBudget): boolean =>
  op.length <= budget.maxComponents && insertedLength(op) <= budget.maxInsert && opBytes(op) <= budget.maxBytes;

/**
 * Cut `op` into ops that, applied one after another, do what `op` does, each within `budget`. Inserts are cut
 * between code points (never inside a surrogate pair). The common case — an op that fits — is returned as is.
 *
 * Why this works: walking the op left to right, everything before the cursor is already in its final form and
 * everything after it is untouched. A part that ends at the cursor leaves the document in exactly that state, so
 * the next part starts with a skip over the finished prefix (`pos` code points) and carries on.
 */
export function splitOp(op: TextOp, budget: OpBudget): TextOp[] {
  if (fitsBudget(op, budget)) return [op];
  const parts: TextOp[] = [];
  let part: TextOp = [];
  let inserted = 0;
  let bytes = 2;
  let pos = 0; // code points of finished output before the cursor

  const push = (c: TextOpComponent): void => {
    const last = part[part.length - 1];
    if (typeof c === 'number' && typeof last === 'number') {
      bytes += String(last + c).length - String(last).length;
      part[part.length - 1] = last + c;
      return;
    }
    bytes += componentBytes(c) + (part.length > 0 ? 1 : 0);
    part.push(c);
  };
  const close = (): void => {
    if (typeof part[part.length - 1] === 'number') part.pop();
    if (part.length > 0) parts.push(part);
    part = [];
    inserted = 0;
    bytes = 2;
    if (pos > 0) push(pos);
  };
  // Room for one more component (and its skip) in this part?
  const hasRoom = (cost: number): boolean =>
    part.length + 2 <= budget.maxComponents && bytes + cost + 24 <= budget.maxBytes;

  for (const c of op) {
    if (typeof c === 'number') {
      push(c);
      pos += c;
    } else if (typeof c === 'object') {
      if (!hasRoom(componentBytes(c))) close();
      push(c);
    } else {
      let chunk = '';
      let chunkLength = 0;
      let chunkBytes = 2;
      for (const ch of c) {
        const cost = jsonCodePointBytes(ch.codePointAt(0)!);
        if (inserted + chunkLength + 1 > budget.maxInsert || !hasRoom(chunkBytes + cost)) {
          if (chunk !== '') {
            push(chunk);
            pos += chunkLength;
          }
          close();
          chunk = '';
          chunkLength = 0;
          chunkBytes = 2;
        }
        chunk += ch;
        chunkLength++;
        chunkBytes += cost;
      }
      if (chunk !== '') {
        push(chunk);
        inserted += chunkLength;
        pos += chunkLength;
      }
    }
  }
  if (typeof part[part.length - 1] === 'number') part.pop();
  if (part.length > 0) parts.push(part);
  return parts;
}
