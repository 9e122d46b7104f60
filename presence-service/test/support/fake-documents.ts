/** A document the way the hub holds it, minus the I/O: text, version and the window of recent ops. */
import type { TextOp } from '@collab/ot-text';
import { type } from '@collab/ot-text';
import type { PresenceDocuments } from '../../src/router.js';

interface Record {
  version: number;
  op: TextOp;
  userId: string;
}

export class FakeDocument {
  text: string;
  version: number;
  recent: Record[] = [];

  constructor(
    text = '',
    version = 0,
    private readonly windowSize = 1000,
  ) {
    this.text = text;
    this.version = version;
  }

  /** Commit `op` (on the current version) as `userId`. */
  commit(op: TextOp, userId = 'someone'): void {
    this.text = type.apply(this.text, op).toString();
    this.version++;
    this.recent.push({ version: this.version, op, userId });
    if (this.recent.length > this.windowSize) this.recent.shift();
  }
}

export class FakeDocuments implements PresenceDocuments {
  readonly docs = new Map<string, FakeDocument>();

  get(docId: string): FakeDocument {
    let doc = this.docs.get(docId);
    if (doc === undefined) this.docs.set(docId, (doc = new FakeDocument()));
    return doc;
  }

  async window(docId: string) {
    const doc = this.docs.get(docId);
    if (doc === undefined) return undefined;
    return { version: doc.version, recent: [...doc.recent], length: [...doc.text].length };
  }
}
