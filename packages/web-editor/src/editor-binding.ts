/**
 * The page's editor: a CodeMirror view bound to the SDK document by @collab/codemirror's `collab()` (edits both
 * ways, other people's cursors, undo of this user's own edits), plus the page's look and keys.
 */
import type { ClientDocument, UndoManager } from '@collab/client';
import type { MediaImagesOptions, MediaPasteOptions } from '@collab/codemirror';
import { collab, mediaImages, mediaPaste } from '@collab/codemirror';
import { defaultKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';

export interface Binding {
  view: EditorView;
  destroy(): void;
}

/**
 * `undo`: shared with the page's buttons, so the keys and the buttons step through one history. `media`: how
 * images are shown (references rendered inline) and uploaded (pasted or dropped).
 */
export function bindEditor(
  parent: HTMLElement,
  doc: ClientDocument,
  undo: UndoManager,
  media: MediaImagesOptions & MediaPasteOptions,
): Binding {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: doc.text,
      extensions: [
        lineNumbers(),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        collab(doc, { undo }),
        mediaImages(media),
        mediaPaste(media),
        keymap.of(defaultKeymap),
      ],
    }),
  });
  return { view, destroy: () => view.destroy() };
}
