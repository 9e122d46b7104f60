/**
 * The document snapshot: an immutable rope with string-like accessors. Applying an op returns a new `Doc` and
 * leaves the old one intact, sharing all untouched chunks with it.
 */
import { OtError } from './errors.js';
import type { RopeNode } from './rope.js';
import {
  ropeCodePointToUtf16,
  ropeFromString,
  ropeSlice,
  ropeSplice,
  ropeToString,
  ropeUnits,
  ropeUtf16ToCodePoint,
} from './rope.js';

export class Doc {
  /** The rope. Public and plain so that a structurally cloned snapshot can be revived with `Doc.from`. */
  readonly root: RopeNode;

  constructor(root: RopeNode) {
    this.root = root;
  }

  static fromString(text: string): Doc {
    return new Doc(ropeFromString(text));
  }

  /**
   * Accept anything that is or was a Doc: a Doc, a deep copy of one (plain `{root}`, as ot-fuzzer and structured
   * clone produce), or a plain string (as ShareDB-style stores that keep `serialize`d snapshots hand back).
   */
  static from(snapshot: unknown): Doc {
    if (snapshot instanceof Doc) return snapshot;
    if (typeof snapshot === 'string') return Doc.fromString(snapshot);
    if (typeof snapshot === 'object' && snapshot !== null && 'root' in snapshot) {
      const root = (snapshot as { root: unknown }).root;
      if (typeof root === 'object' && root !== null && typeof (root as { n?: unknown }).n === 'number') {
        return new Doc(root as RopeNode);
      }
    }
    throw new OtError('ERR_SNAPSHOT_INVALID', 'The snapshot is not a text document (expected a Doc or a string).');
  }

  /** Length in code points. */
  get length(): number {
    return this.root.n;
  }

  /** Length in UTF-16 code units (what `toString().length` would say). */
  get utf16Length(): number {
    return ropeUnits(this.root);
  }

  toString(): string {
    return ropeToString(this.root);
  }

  toJSON(): string {
    return this.toString();
  }

  /** Text between code point positions `start` and `end`. */
  slice(start = 0, end = this.length): string {
    return ropeSlice(this.root, Math.max(0, start), end);
  }

  /** A new document with `del` code points at `pos` replaced by `insert`. Positions must be in range. */
  splice(pos: number, del: number, insert = ''): Doc {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(del) || pos < 0 || del < 0 || pos + del > this.length) {
      throw new OtError(
        'ERR_POSITION_INVALID',
        `Cannot replace ${del} code points at ${pos} in a document of length ${this.length}.`,
      );
    }
    return new Doc(ropeSplice(this.root, pos, del, insert));
  }

  /** UTF-16 offset of code point position `pos` (clamped to the document). */
  codePointToUtf16(pos: number): number {
    return ropeCodePointToUtf16(this.root, Math.max(0, Math.min(pos, this.length)));
  }

  /** Code point position of UTF-16 offset `offset` (clamped; an offset inside a surrogate pair rounds down). */
  utf16ToCodePoint(offset: number): number {
    return ropeUtf16ToCodePoint(this.root, Math.max(0, Math.min(offset, this.utf16Length)));
  }
}
