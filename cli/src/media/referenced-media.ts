/**
 * Which media ids any version of any document references (`media:ID`, docs/protocol.md "Media"), read from the
 * op log: the truth, kept forever, so "any version" is every version there ever was.
 *
 * Checking the text inserted by each op is not enough: a reference can be typed character by character, pasted
 * in pieces, or formed by a delete that joins two halves. But a reference present at version v and absent at v-1
 * must overlap what op v changed (else the same characters stood side by side before). So after each op the text
 * around each of its edits, `media:ID`'s length either side, is searched in the new text. That costs O(ops × that
 * length) rather than O(versions × document length), and finds every reference of every version.
 */
import { isOpCommitted, type OpLog, type OpCommitted } from '@collab/core';
import { applyOp, codePointLength, Doc } from '@collab/ot-text';
import { MEDIA_URI, MEDIA_URI_LENGTH } from '@collab/protocol';

export class ReferencedMedia {
  readonly ids = new Set<string>();
  private readonly texts = new Map<string, Doc>();

  /** The next op of its document (versions in order from 1, as the log holds them). */
  add(op: OpCommitted): void {
    const text = applyOp(this.texts.get(op.docId) ?? Doc.fromString(''), op.op);
    this.texts.set(op.docId, text);
    let pos = 0; // in the new text
    for (const c of op.op) {
      if (typeof c === 'number') {
        pos += c;
      } else if (typeof c === 'string') {
        const end = pos + codePointLength(c);
        this.search(text, pos, end);
        pos = end;
      } else {
        this.search(text, pos, pos); // the two sides the delete brought together
      }
    }
  }

  /** Every reference that overlaps [from, to) or spans the point from = to. */
  private search(text: Doc, from: number, to: number): void {
    const around = text.slice(
      Math.max(0, from - (MEDIA_URI_LENGTH - 1)),
      Math.min(text.length, to + MEDIA_URI_LENGTH - 1),
    );
    for (const match of around.matchAll(MEDIA_URI)) this.ids.add(match[1]!);
  }
}

/** Read every partition of the log from its start to its end now, and collect the references of every document. */
export async function referencedMedia(log: OpLog): Promise<ReferencedMedia> {
  const found = new ReferencedMedia();
  const ends = await log.endOffsets();
  for (const [partition, end] of ends.entries()) {
    if (end <= 0n) continue;
    for await (const batch of log.read(partition, 0n)) {
      let done = false;
      for (const record of batch) {
        if (record.offset >= end) {
          done = true;
          break;
        }
        if (isOpCommitted(record.value)) found.add(record.value);
      }
      if (done || (batch.at(-1)?.offset ?? -1n) >= end - 1n) break;
    }
  }
  return found;
}
