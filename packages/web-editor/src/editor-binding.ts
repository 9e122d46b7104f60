/**
 * Binds a CodeMirror view to an SDK document, both ways. Local edits go to the SDK (which applies them at once
 * and sends them); remote changes come back from the SDK as UTF-16 ranges and are dispatched to CodeMirror with
 * an annotation, so the update listener does not send them again. Presence too: our selection goes to the SDK
 * (throttled there), other people's cursors come back as decorations (remote-cursors.ts).
 */
import type { ClientDocument } from '@collab/client';
import { Annotation, EditorState } from '@codemirror/state';
import type { ViewUpdate } from '@codemirror/view';
import { EditorView, keymap, lineNumbers, drawSelection, highlightActiveLine } from '@codemirror/view';
import { defaultKeymap } from '@codemirror/commands';
import { remoteCursors, setRemoteUsers } from './remote-cursors.js';

const fromServer = Annotation.define<boolean>();

export interface Binding {
  view: EditorView;
  destroy(): void;
}

export function bindEditor(
  parent: HTMLElement,
  doc: ClientDocument,
  extraKeys: Parameters<typeof keymap.of>[0] = [],
): Binding {
  const sendLocalChanges = (update: ViewUpdate): void => {
    for (const tr of update.transactions) {
      if (tr.annotation(fromServer) === true || !tr.docChanged) continue;
      // Changes are reported against the document before the transaction; apply them back to front so
      // every offset is still valid when its turn comes.
      const changes: Array<{ from: number; to: number; text: string }> = [];
      tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
        changes.push({ from: fromA, to: toA, text: inserted.toString() });
      });
      for (const c of changes.reverse()) doc.replace(c.from, c.to - c.from, c.text);
    }
  };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: doc.text,
      extensions: [
        lineNumbers(),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        keymap.of([...extraKeys, ...defaultKeymap]),
        remoteCursors(),
        EditorView.updateListener.of((update: ViewUpdate) => {
          if (update.docChanged) sendLocalChanges(update);
          // After the SDK has our edits: the selection's offsets refer to the text with them.
          if (update.selectionSet || (update.docChanged && update.view.hasFocus)) {
            const { anchor, head } = update.state.selection.main;
            doc.setCursor(anchor, head);
          }
        }),
      ],
    }),
  });

  const off = doc.on('change', (event) => {
    if (event.source === 'local') return; // already in the editor: it came from there
    if (event.source === 'reload') {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: doc.text },
        annotations: fromServer.of(true),
      });
      return;
    }
    view.dispatch({
      changes: event.changes.map((c) => ({ from: c.from, to: c.to, insert: c.insert })),
      annotations: fromServer.of(true),
    });
  });

  // Presence events can fire while CodeMirror is mid-update (our own keystroke reaches the SDK from the update
  // listener): dispatch on a microtask, and read the SDK's current positions then, which match the editor's text.
  let scheduled = false;
  const showOthers = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      if (!destroyed) view.dispatch({ effects: setRemoteUsers.of(doc.others) });
    });
  };
  let destroyed = false;
  const offPresence = doc.on('presence', showOthers);
  showOthers();

  return {
    view,
    destroy: () => {
      destroyed = true;
      off();
      offPresence();
      view.destroy();
    },
  };
}
