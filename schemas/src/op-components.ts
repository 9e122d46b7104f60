/**
 * A text-unicode op (`TextOp`, see @collab/ot-text) and its two Avro forms in the OpCommitted record:
 *
 * - `op` (v1 and later): an array of a union of long (skip), string (insert) and Delete {count, text?};
 *   `{d: N}` is {count: N, text: null}, `{d: "abc"}` is {count: 3, text: "abc"}.
 * - `components` (v2 and later): an array of plain records OpComponent {kind, count, text?}, for the tools that
 *   handle a union of primitives badly (Kafka Connect, Spark, Trino): a skip of N is {retain, N, null}, an insert
 *   {insert, code points of the text, text}, a delete {delete, N, text or null}.
 *
 * Counts are Unicode code points. Writers fill both forms from the same op; a reader that finds both checks that
 * they agree (ERR_CORRUPT otherwise), since a reader that trusted the other form would build another document.
 */
import { CollabError } from '@collab/core';
import type { TextOp, TextOpComponent } from '@collab/ot-text';

/** v1's union branch Delete. */
export interface AvroDelete {
  count: number;
  text: string | null;
}

/** An element of v1's `op`: skip, insert or Delete. */
export type AvroUnionComponent = number | string | AvroDelete;

/** An element of v2's `components`. */
export interface AvroOpComponent {
  kind: 'retain' | 'insert' | 'delete';
  count: number;
  text: string | null;
}

export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const positiveInteger = (n: number): boolean => Number.isSafeInteger(n) && n > 0;

const invalid = (message: string): CollabError => new CollabError('ERR_INVALID_ARGUMENT', message);
const corrupt = (message: string): CollabError => new CollabError('ERR_CORRUPT', message);

/** Checks one component of an op to encode; ERR_INVALID_ARGUMENT naming it when the format cannot hold it. */
function checkComponent(c: TextOpComponent, index: number): void {
  if (typeof c === 'number') {
    if (!positiveInteger(c)) throw invalid(`op component ${index}: a skip must be a positive integer, got ${c}`);
  } else if (typeof c === 'string') {
    if (c.length === 0) throw invalid(`op component ${index}: an insert must not be empty`);
  } else if (typeof c.d === 'number') {
    if (!positiveInteger(c.d)) throw invalid(`op component ${index}: {d: N} needs a positive integer, got ${c.d}`);
  } else if (c.d.length === 0) {
    throw invalid(`op component ${index}: {d: "text"} must not be empty`);
  }
}

/** The v1 form of an op (validated first). */
export function toUnionComponents(op: TextOp): AvroUnionComponent[] {
  return op.map((c, index) => {
    checkComponent(c, index);
    if (typeof c === 'number' || typeof c === 'string') return c;
    return typeof c.d === 'number' ? { count: c.d, text: null } : { count: codePoints(c.d), text: c.d };
  });
}

/** The v2 form of an op (validated first). */
export function toOpComponents(op: TextOp): AvroOpComponent[] {
  return op.map((c, index) => {
    checkComponent(c, index);
    if (typeof c === 'number') return { kind: 'retain', count: c, text: null };
    if (typeof c === 'string') return { kind: 'insert', count: codePoints(c), text: c };
    return typeof c.d === 'number'
      ? { kind: 'delete', count: c.d, text: null }
      : { kind: 'delete', count: codePoints(c.d), text: c.d };
  });
}

/** A Delete that carries its text must agree with its count, else the op applies differently by field. */
function deleteOf(count: number, text: string | null, where: string): TextOpComponent {
  if (text === null) return { d: count };
  if (codePoints(text) !== count) {
    throw corrupt(`${where}: delete count ${count} does not match its text's ${codePoints(text)} code points`);
  }
  return { d: text };
}

/** The op of a v1 form, as read. ERR_CORRUPT for a Delete whose count and text disagree. */
export function fromUnionComponents(components: readonly AvroUnionComponent[]): TextOp {
  return components.map((c, index) =>
    typeof c === 'number' || typeof c === 'string' ? c : deleteOf(c.count, c.text, `op component ${index}`),
  );
}

/**
 * The op of a v2 form, as read. ERR_CORRUPT for a component no writer makes: a count that is not a positive
 * integer, a retain with text, an insert without text or whose count is not its length, a delete whose count and
 * text disagree.
 */
export function fromOpComponents(components: readonly AvroOpComponent[]): TextOp {
  return components.map((c, index) => {
    const where = `components[${index}] (${c.kind})`;
    if (!positiveInteger(c.count)) throw corrupt(`${where}: count must be a positive integer, got ${c.count}`);
    switch (c.kind) {
      case 'retain':
        if (c.text !== null) throw corrupt(`${where}: a retain carries no text`);
        return c.count;
      case 'insert':
        if (c.text === null || codePoints(c.text) !== c.count) {
          throw corrupt(
            `${where}: an insert needs its text, of count (${c.count}) code points, got ${c.text === null ? 'null' : `${codePoints(c.text)} code points`}`,
          );
        }
        return c.text;
      case 'delete':
        return deleteOf(c.count, c.text, where);
    }
  });
}

function sameComponent(a: TextOpComponent, b: TextOpComponent): boolean {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  return a.d === b.d;
}

/**
 * The op of a record that may carry both forms: `components` when it has any (v2), else `op` (a record written
 * with v1, read through v2: `components` is its default, empty). ERR_CORRUPT when both are there and disagree.
 */
export function opOfRecord(
  op: readonly AvroUnionComponent[],
  components: readonly AvroOpComponent[] | undefined,
): TextOp {
  const fromOp = fromUnionComponents(op);
  if (components === undefined || components.length === 0) return fromOp;
  const fromComponents = fromOpComponents(components);
  if (fromComponents.length !== fromOp.length || fromComponents.some((c, i) => !sameComponent(c, fromOp[i]!))) {
    throw corrupt(
      `the record's two forms of the op disagree: components ${JSON.stringify(fromComponents)}, op ${JSON.stringify(fromOp)}`,
    );
  }
  return fromComponents;
}
