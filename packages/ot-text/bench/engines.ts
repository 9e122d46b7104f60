/**
 * The engines the OT benchmark replays a trace through, each with identical input (the trace's patches) and
 * checked against the trace's endContent after the run, so no engine can win by doing less.
 */
import { type as reference } from 'ot-text-unicode';
import * as Y from 'yjs';
import { type } from '../src/index.js';
import type { Patch, SequentialTrace } from '../test/support/traces.js';
import { patchToOp } from '../test/support/traces.js';

export interface Engine {
  name: string;
  /** Replays every patch and returns the final text. */
  replay(trace: SequentialTrace): string;
}

const patchesOf = (trace: SequentialTrace): Patch[] => trace.txns.flatMap((t) => t.patches);

export const engines: Engine[] = [
  {
    name: 'collab rope (type.apply)',
    replay(trace) {
      let doc = type.create(trace.startContent);
      for (const txn of trace.txns) for (const p of txn.patches) doc = type.apply(doc, patchToOp(p));
      return doc.toString();
    },
  },
  {
    name: 'ot-text-unicode (string)',
    replay(trace) {
      let doc = (reference.create as (initial: string) => string)(trace.startContent);
      for (const txn of trace.txns) for (const p of txn.patches) doc = reference.apply(doc, patchToOp(p));
      return doc;
    },
  },
  {
    name: 'Yjs Y.Text',
    replay(trace) {
      const ydoc = new Y.Doc();
      const text = ydoc.getText('t');
      text.insert(0, trace.startContent);
      for (const txn of trace.txns) {
        for (const [pos, del, ins] of txn.patches) {
          if (del > 0) text.delete(pos, del);
          if (ins.length > 0) text.insert(pos, ins);
        }
      }
      return text.toString();
    },
  },
  {
    name: 'naive string slicing',
    replay(trace) {
      let s = trace.startContent;
      for (const [pos, del, ins] of patchesOf(trace)) s = s.slice(0, pos) + ins + s.slice(pos + del);
      return s;
    },
  },
];
