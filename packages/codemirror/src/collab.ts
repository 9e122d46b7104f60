/**
 * `collab(doc)`: the CodeMirror 6 extension that keeps an EditorView and an SDK document in step, both ways.
 *
 * - The view's edits go to the SDK (which applies them at once and sends them); every other change of the
 *   document — others' edits, an undo, a program's own `doc.insert` — comes back from the SDK as UTF-16 ranges and
 *   is dispatched with an annotation, so it is not sent again.
 * - Presence: the view's selection is our cursor (the SDK throttles it); other people's cursors and selections
 *   are decorations (remote-cursors.ts).
 * - Comment threads: each open thread's range is marked (comment-marks.ts).
 * - Undo and redo act on this user's own edits only (the SDK's UndoManager: others' text is never removed);
 *   Mod-z, Mod-Shift-z and Mod-y, or `collabUndo(view)` / `collabRedo(view)` from buttons.
 *
 * Like y-codemirror.next's `yCollab`, the state should be created with the document's text (`doc.text`); if it
 * is not, the first update replaces the view's content with the document's, so the two can never drift.
 */
import type { ClientDocument } from '@collab/client';
import { UndoManager } from '@collab/client';
import type { Extension } from '@codemirror/state';
import { Annotation, Facet, Prec } from '@codemirror/state';
import type { PluginValue, ViewUpdate } from '@codemirror/view';
import { type EditorView, keymap, ViewPlugin } from '@codemirror/view';
import { commentMarks, setCommentThreads } from './comment-marks.js';
import { remoteCursors, setRemoteUsers } from './remote-cursors.js';

export interface CollabOptions {
  /**
   * Undo/redo of this user's own edits with the usual keys: true (default) makes an UndoManager for this view,
   * an UndoManager of yours is used as given (to share it with buttons or several views), false leaves undo out.
   */
  undo?: boolean | UndoManager;
  /** Show other people's cursors and selections. Default true. */
  cursors?: boolean;
  /** Send this view's selection as our cursor. Default true. */
  shareCursor?: boolean;
  /** Mark the ranges of open comment threads. Default true. */
  comments?: boolean;
}

/** Marks the transactions that carry the document's changes into the view (not to be sent back). */
export const fromDocument = Annotation.define<boolean>();

interface CollabConfig {
  doc: ClientDocument;
  undo: UndoManager | undefined;
  shareCursor: boolean;
}

const collabConfig = Facet.define<CollabConfig, CollabConfig | undefined>({
  combine: (values) => values[0],
});

export function collab(doc: ClientDocument, options: CollabOptions = {}): Extension {
  const undo =
    options.undo === false ? undefined : options.undo instanceof UndoManager ? options.undo : new UndoManager(doc);
  const config: CollabConfig = { doc, undo, shareCursor: options.shareCursor ?? true };
  return [
    collabConfig.of(config),
    ViewPlugin.define((view) => new DocumentSync(view, config)),
    options.cursors === false ? [] : remoteCursors(),
    options.comments === false ? [] : commentMarks(),
    undo === undefined
      ? []
      : Prec.high(
          keymap.of([
            { key: 'Mod-z', run: collabUndo, preventDefault: true },
            { key: 'Mod-Shift-z', run: collabRedo, preventDefault: true },
            { key: 'Mod-y', run: collabRedo, preventDefault: true },
          ]),
        ),
  ];
}

/** Undo this user's last edit in the view's document; the cursor goes where it happened. False: nothing to undo. */
export function collabUndo(view: EditorView): boolean {
  return step(view, 'undo');
}

/** Redo what `collabUndo` undid. False: nothing to redo. */
export function collabRedo(view: EditorView): boolean {
  return step(view, 'redo');
}

function step(view: EditorView, which: 'undo' | 'redo'): boolean {
  const undo = view.state.facet(collabConfig)?.undo;
  if (undo === undefined) return false;
  // The SDK applies the inverse to the document; its 'change' event brings it into the view (DocumentSync).
  const result = which === 'undo' ? undo.undo() : undo.redo();
  if (result === undefined) return false;
  view.dispatch({ selection: { anchor: Math.min(result.cursor, view.state.doc.length) } });
  return true;
}

class DocumentSync implements PluginValue {
  private readonly offChange: () => void;
  private readonly offPresence: () => void;
  private readonly offComments: () => void;
  private destroyed = false;
  private presenceScheduled = false;
  private commentsScheduled = false;
  /** Set while the view's own edits are handed to the document (their 'change' events are not echoed back). */
  private sendingFromView = false;

  constructor(
    private readonly view: EditorView,
    private readonly config: CollabConfig,
  ) {
    const { doc } = config;
    this.offChange = doc.on('change', (event) => {
      // Our own edits from the view are in it already. Every other change is not: others' edits, a reload, and
      // local edits made on the document directly (an undo, a program's insert).
      if (this.sendingFromView) return;
      if (event.source === 'reload') return this.replaceAll();
      view.dispatch({
        changes: event.changes.map((c) => ({ from: c.from, to: c.to, insert: c.insert })),
        annotations: fromDocument.of(true),
      });
    });
    this.offPresence = doc.on('presence', () => this.showOthers());
    this.offComments = doc.on('comments', () => this.showThreads());
    // A plugin may not dispatch while the view is being built: align the content and show others just after.
    queueMicrotask(() => {
      if (this.destroyed) return;
      if (view.state.doc.toString() !== doc.text) this.replaceAll();
      this.showOthers();
      this.showThreads();
    });
  }

  update(update: ViewUpdate): void {
    const { doc, shareCursor } = this.config;
    if (update.docChanged) {
      for (const tr of update.transactions) {
        if (tr.annotation(fromDocument) === true || !tr.docChanged) continue;
        // Changes are reported against the text before the transaction: apply them back to front so every
        // offset is still valid when its turn comes.
        const changes: { from: number; to: number; text: string }[] = [];
        tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
          changes.push({ from: fromA, to: toA, text: inserted.toString() });
        });
        this.sendingFromView = true;
        try {
          for (const c of changes.reverse()) doc.replace(c.from, c.to - c.from, c.text);
        } finally {
          this.sendingFromView = false;
        }
      }
    }
    // After the SDK has our edits: the selection's offsets refer to the text with them.
    if (shareCursor && (update.selectionSet || (update.docChanged && update.view.hasFocus))) {
      const { anchor, head } = update.state.selection.main;
      doc.setCursor(anchor, head);
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.offChange();
    this.offPresence();
    this.offComments();
  }

  private replaceAll(): void {
    this.view.dispatch({
      changes: { from: 0, to: this.view.state.doc.length, insert: this.config.doc.text },
      annotations: fromDocument.of(true),
    });
  }

  /**
   * Presence events can fire while CodeMirror is mid-update (our own keystroke reaches the SDK from update()):
   * dispatch on a microtask, and read the SDK's positions then, which match the view's text.
   */
  private showOthers(): void {
    if (this.presenceScheduled) return;
    this.presenceScheduled = true;
    queueMicrotask(() => {
      this.presenceScheduled = false;
      if (!this.destroyed) this.view.dispatch({ effects: setRemoteUsers.of(this.config.doc.others) });
    });
  }

  /** As for presence: the threads' offsets are read on a microtask, when they match the view's text. */
  private showThreads(): void {
    if (this.commentsScheduled) return;
    this.commentsScheduled = true;
    queueMicrotask(() => {
      this.commentsScheduled = false;
      if (!this.destroyed) this.view.dispatch({ effects: setCommentThreads.of(this.config.doc.threads) });
    });
  }
}
