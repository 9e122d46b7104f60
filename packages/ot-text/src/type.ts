/**
 * The type object, in the ottypes interface, so it can be registered with ShareDB (`ShareDB.types.register`) and
 * driven by ot-fuzzer. Name and URI are the reference's: our ops and results are identical to `ot-text-unicode`'s,
 * only the snapshot representation differs.
 */
import { applyOp, checkOpFits } from './apply.js';
import { compose } from './compose.js';
import { Doc } from './document.js';
import { OtError } from './errors.js';
import { invert, isInvertible, makeInvertibleWith, stripInvertible } from './invert.js';
import type { TextOp } from './op.js';
import { checkOp, normalize, trim } from './op.js';
import type { Selection, Side } from './transform.js';
import { transform, transformPosition, transformSelection } from './transform.js';

function makeInvertible(op: TextOp, snapshot: Doc | string): TextOp {
  const doc = Doc.from(snapshot);
  checkOp(op);
  checkOpFits(doc, op);
  return makeInvertibleWith(op, (start, end) => doc.slice(start, end));
}

export const type = {
  name: 'text-unicode',
  uri: 'http://sharejs.org/types/text-unicode',

  create(initial: unknown = ''): Doc {
    if (typeof initial !== 'string') {
      throw new OtError('ERR_SNAPSHOT_INVALID', 'The initial content of a text document must be a string.');
    }
    return Doc.fromString(initial);
  },

  apply: (snapshot: Doc | string, op: TextOp): Doc => applyOp(Doc.from(snapshot), op),
  transform: (op: TextOp, other: TextOp, side: Side): TextOp => transform(op, other, side),
  compose: (a: TextOp, b: TextOp): TextOp => compose(a, b),
  invert,
  makeInvertible,
  invertWithDoc: (op: TextOp, snapshot: Doc | string): TextOp => invert(makeInvertible(op, snapshot)),
  isInvertible,
  stripInvertible,
  normalize,
  trim,
  /** Validate an op; with a document, also check that it fits it. Throws OtError with a stable code. */
  checkOp(op: unknown, snapshot?: Doc | string): void {
    checkOp(op);
    if (snapshot !== undefined) checkOpFits(Doc.from(snapshot), op);
  },
  isNoop: (op: TextOp): boolean => op.length === 0,
  transformPosition,
  transformSelection: <S extends Selection>(selection: S, op: TextOp): S => transformSelection(selection, op),
  /** The stored form of a snapshot: its text. */
  serialize: (snapshot: Doc | string): string => Doc.from(snapshot).toString(),
  /** Back from the stored form. Also accepts a Doc: ShareDB's client deserializes what `create` returned. */
  deserialize: (data: string | Doc): Doc => Doc.from(data),
  /** ShareDB's client uses this, when present, to create a document directly in its in-memory form. */
  createDeserialized: (initial: unknown = ''): Doc => type.create(initial),
};

export type TextType = typeof type;
