/**
 * Other people's cursors and selections in CodeMirror: a widget for each caret (a coloured bar with the name as
 * a label, styled by .cm-remote-cursor) and a mark for each selection (.cm-remote-selection). The SDK keeps the
 * positions in the local text and says when they change ('presence' events); between two events, CodeMirror maps
 * the decorations through every edit, so they never lag a keystroke behind the text.
 */
import type { RemoteUser } from '@collab/client';
import type { Extension, Range } from '@codemirror/state';
import { StateEffect, StateField } from '@codemirror/state';
import type { DecorationSet } from '@codemirror/view';
import { Decoration, EditorView, WidgetType } from '@codemirror/view';

export const setRemoteUsers = StateEffect.define<RemoteUser[]>();

class CaretWidget extends WidgetType {
  constructor(
    readonly sessionId: string,
    readonly name: string,
    readonly color: string,
  ) {
    super();
  }

  override eq(other: CaretWidget): boolean {
    return other.sessionId === this.sessionId && other.name === this.name && other.color === this.color;
  }

  toDOM(): HTMLElement {
    const el = document.createElement('span');
    el.className = 'cm-remote-cursor';
    el.style.setProperty('--c', this.color);
    el.dataset.name = this.name;
    el.dataset.session = this.sessionId;
    el.setAttribute('aria-label', `${this.name}'s cursor`);
    return el;
  }

  override ignoreEvent(): boolean {
    return true;
  }
}

function decorations(users: readonly RemoteUser[], length: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const user of users) {
    if (user.cursor === undefined) continue;
    // The SDK's positions match this text; clamp anyway, a decoration out of range would throw.
    const anchor = Math.min(user.cursor.anchor, length);
    const head = Math.min(user.cursor.head, length);
    const from = Math.min(anchor, head);
    const to = Math.max(anchor, head);
    if (from < to) {
      ranges.push(
        Decoration.mark({ class: 'cm-remote-selection', attributes: { style: `--c: ${user.color}` } }).range(from, to),
      );
    }
    ranges.push(
      Decoration.widget({ widget: new CaretWidget(user.sessionId, user.name, user.color), side: 1 }).range(head),
    );
  }
  return Decoration.set(ranges, true);
}

const remoteField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(set, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setRemoteUsers)) return decorations(effect.value, tr.newDoc.length);
    }
    return set.map(tr.changes);
  },
  provide: (field) => EditorView.decorations.from(field),
});

export function remoteCursors(): Extension {
  return remoteField;
}
