/**
 * Joins a snapshot or catch-up that the server sent in parts (`snapshot-part` / `catchup-part`: it bounds every
 * frame by `limits.maxFrameBytes`). The parts of one answer come back to back, numbered from 0; anything out of
 * step — a part missing, a version or count that changes, a connection lost half-way — drops what was gathered,
 * and the document's open timer asks again. A part 0 always starts afresh.
 */
import type { CatchupPart, ServerMessage, SnapshotPart, WireOp } from '@collab/protocol';

type Whole = Extract<ServerMessage, { t: 'snapshot' }> | Extract<ServerMessage, { t: 'catchup' }>;

interface Gathering {
  t: SnapshotPart['t'] | CatchupPart['t'];
  version: number;
  parts: number;
  next: number;
  texts: string[];
  ops: WireOp[];
}

export class PartsAssembler {
  private gathering: Gathering | undefined;

  /** Take one part; the whole snapshot or catch-up once its last part is in, else undefined. */
  add(message: SnapshotPart | CatchupPart): Whole | undefined {
    const { part, parts, version } = message;
    const valid = Number.isSafeInteger(parts) && parts >= 1 && Number.isSafeInteger(part) && part >= 0 && part < parts;
    if (!valid) {
      this.gathering = undefined;
      return undefined;
    }
    if (part === 0) this.gathering = { t: message.t, version, parts, next: 0, texts: [], ops: [] };
    const g = this.gathering;
    if (g === undefined || g.t !== message.t || g.version !== version || g.parts !== parts || g.next !== part) {
      this.gathering = undefined;
      return undefined;
    }
    if (message.t === 'snapshot-part') g.texts.push(message.text);
    else for (const op of message.ops) g.ops.push(op);
    g.next++;
    if (g.next < parts) return undefined;
    this.gathering = undefined;
    return message.t === 'snapshot-part'
      ? { t: 'snapshot', docId: message.docId, version, text: g.texts.join('') }
      : { t: 'catchup', docId: message.docId, version, ops: g.ops };
  }

  /** Parts are being gathered (an answer is arriving). */
  get busy(): boolean {
    return this.gathering !== undefined;
  }

  reset(): void {
    this.gathering = undefined;
  }
}
