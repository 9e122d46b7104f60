/**
 * Comment threads in CodeMirror: a mark on each open thread's range (`.cm-comment`, with the thread's id in
 * `data-thread`). The SDK keeps the ranges in the local text and says when they change ('comments' events);
 * between two events CodeMirror maps the marks through every edit, so they stay on their words as people type.
 * Resolved threads and detached ones (their text deleted) have no mark.
 */
import type { ShownThread } from '@collab/client';
import type { Extension, Range } from '@codemirror/state';
import { StateEffect, StateField } from '@codemirror/state';
import type { DecorationSet } from '@codemirror/view';
import { Decoration, EditorView } from '@codemirror/view';

export const setCommentThreads = StateEffect.define<ShownThread[]>();

function marks(threads: readonly ShownThread[], length: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const thread of threads) {
    if (thread.resolved || thread.anchor.detached) continue;
    // The SDK's offsets match this text; clamp anyway, a decoration out of range would throw.
    const from = Math.min(thread.from, length);
    const to = Math.min(thread.to, length);
    if (from >= to) continue;
    ranges.push(
      Decoration.mark({ class: 'cm-comment', attributes: { 'data-thread': thread.threadId } }).range(from, to),
    );
  }
  return Decoration.set(ranges, true);
}

const commentField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(set, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setCommentThreads)) return marks(effect.value, tr.newDoc.length);
    }
    return set.map(tr.changes);
  },
  provide: (field) => EditorView.decorations.from(field),
});

export function commentMarks(): Extension {
  return commentField;
}
