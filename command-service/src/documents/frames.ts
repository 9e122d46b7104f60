/**
 * Frames that carry a document's text (`snapshot`) or a run of its ops (`catchup`) are bounded like the frames a
 * client may send: at most `maxFrameBytes` of JSON each. A larger one goes out as numbered parts —
 * `snapshot-part` / `catchup-part` with `part` (0-based) and `parts` — sent back to back, which the SDK joins
 * into one snapshot or catch-up. Parts use their own message types so that a client which does not know them
 * ignores them (and asks again) rather than taking the first part for the whole text.
 *
 * Pure: what is measured is the UTF-8 length of each message's JSON, exactly as the transport will send it.
 */
import type { ServerMessage, WireOp } from '@collab/protocol';

/** Room for a part's envelope: type, a document id of up to 256 characters, version, part and parts. */
export const PART_ENVELOPE_BYTES = 512;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** The whole text at `version`, in one `snapshot` frame if it fits, else in `snapshot-part` frames. */
export function snapshotFrames(docId: string, version: number, text: string, maxFrameBytes: number): ServerMessage[] {
  const whole: ServerMessage = { t: 'snapshot', docId, version, text };
  if (text.length * 6 + PART_ENVELOPE_BYTES <= maxFrameBytes || jsonBytes(whole) <= maxFrameBytes) return [whole];
  const pieces = splitText(text, Math.max(16, maxFrameBytes - PART_ENVELOPE_BYTES));
  return pieces.map((piece, part) => ({ t: 'snapshot-part', docId, version, part, parts: pieces.length, text: piece }));
}

/**
 * Cut `text` into consecutive pieces whose JSON string literals take at most `budget` bytes each, never between
 * the two halves of a surrogate pair. A piece starts as long as the budget allows at one byte per UTF-16 unit and
 * shrinks in proportion to what it measures (non-ASCII text costs up to 3 bytes per unit, control characters 6).
 */
export function splitText(text: string, budget: number): string[] {
  const pieces: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + Math.max(1, budget - 2));
    for (;;) {
      if (end < text.length && end - at > 1 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      const bytes = jsonBytes(text.slice(at, end));
      if (bytes <= budget || end - at <= 2) break;
      end = at + Math.max(1, Math.floor(((end - at) * budget) / bytes) - 1);
    }
    pieces.push(text.slice(at, end));
    at = end;
  }
  return pieces;
}

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;

/**
 * The ops after the client's version up to `version`, in one `catchup` frame if they fit, else in `catchup-part`
 * frames of whole ops (an op is never cut; one larger than a frame travels alone, as it did when it was
 * submitted). Undefined when the ops together take more than `maxCatchupBytes`: the caller sends the whole text
 * instead. Measuring stops there, so an oversized catch-up costs no more than the limit to find out.
 */
export function catchupFrames(
  docId: string,
  version: number,
  ops: readonly WireOp[],
  limits: { maxFrameBytes: number; maxCatchupBytes: number },
): ServerMessage[] | undefined {
  const sizes: number[] = [];
  let total = 0;
  for (const op of ops) {
    const size = jsonBytes(op);
    total += size + 1;
    if (total > limits.maxCatchupBytes) return undefined;
    sizes.push(size);
  }
  if (total + PART_ENVELOPE_BYTES <= limits.maxFrameBytes) return [{ t: 'catchup', docId, version, ops: [...ops] }];
  const budget = limits.maxFrameBytes - PART_ENVELOPE_BYTES;
  const groups: WireOp[][] = [];
  let group: WireOp[] = [];
  let bytes = 0;
  ops.forEach((op, i) => {
    const size = sizes[i]! + 1;
    if (group.length > 0 && bytes + size > budget) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(op);
    bytes += size;
  });
  if (group.length > 0) groups.push(group);
  return groups.map((part, i) => ({ t: 'catchup-part', docId, version, part: i, parts: groups.length, ops: part }));
}
