import { CollabClient } from '@collab/client';
import { collab, collabUndo } from '@collab/codemirror';
import { defaultKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';

/** Opens `docId` on the server at `url` (ws://host:port/v1/ws) and shows it, shared, in `parent`. */
export async function mountEditor(
  parent: HTMLElement,
  options: { url: string; token: string; docId: string; name: string },
) {
  const client = new CollabClient({ url: options.url, token: options.token, presence: { name: options.name } });
  const doc = await client.openDocument(options.docId);
  const view = new EditorView({
    parent,
    // Start from the document's text; collab() keeps the two in step from then on.
    state: EditorState.create({ doc: doc.text, extensions: [collab(doc), keymap.of(defaultKeymap)] }),
  });
  // An undo button steps through the same history as Mod-z: this user's own edits only.
  const undoButton = document.createElement('button');
  undoButton.textContent = 'Undo';
  undoButton.onclick = () => collabUndo(view);
  parent.append(undoButton);
  return { client, doc, view };
}
