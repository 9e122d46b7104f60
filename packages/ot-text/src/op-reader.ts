/**
 * Reads an op component by component, letting the caller take any prefix of the current component. This is the
 * engine of transform and compose: both walk one op while consuming another in pieces.
 */
import type { TextOp, TextOpComponent } from './op.js';
import { dlen, dslice } from './op.js';
import { codePointLength, codePointToUtf16 } from './unicode.js';

/** Which kind of component must be taken whole rather than split: inserts ('i') or deletes ('d'). */
export type Indivisible = 'i' | 'd' | undefined;

export class OpReader {
  private index = 0;
  /** Offset into the current component: code points for skips and deletes, UTF-16 units for inserts. */
  private offset = 0;

  constructor(private readonly op: TextOp) {}

  /** The component the next `take` will read from, or undefined past the end. */
  peek(): TextOpComponent | undefined {
    return this.op[this.index];
  }

  /** Take the whole rest of the current component; null past the end. */
  takeAll(): TextOpComponent | null {
    return this.op[this.index] === undefined ? null : this.take(Infinity);
  }

  /**
   * Take up to `n` code points from the current component. Past the end of the op this returns a skip of `n`
   * (an op implicitly keeps the rest of the document). Components of the `indivisible` kind come out whole.
   */
  take(n: number, indivisible?: Indivisible): TextOpComponent {
    const c = this.op[this.index];
    if (c === undefined) return n;
    if (typeof c === 'number') {
      const rest = c - this.offset;
      if (rest <= n) return this.advance(rest);
      this.offset += n;
      return n;
    }
    if (typeof c === 'string') {
      const rest = this.offset === 0 ? c : c.slice(this.offset);
      if (indivisible === 'i' || n === Infinity || codePointLength(rest) <= n) return this.advance(rest);
      const cut = this.offset + codePointToUtf16(rest, n);
      const part = c.slice(this.offset, cut);
      this.offset = cut;
      return part;
    }
    if (indivisible === 'd' || n === Infinity || dlen(c.d) - this.offset <= n) {
      return this.advance({ d: dslice(c.d, this.offset) });
    }
    const part = { d: dslice(c.d, this.offset, this.offset + n) };
    this.offset += n;
    return part;
  }

  private advance<T extends TextOpComponent>(part: T): T {
    this.index++;
    this.offset = 0;
    return part;
  }
}
