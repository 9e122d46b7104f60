/**
 * Images in CodeMirror (docs/protocol.md, "Media"). The text keeps the reference `![alt](media:ID)`; this shows the
 * image in a widget right after it, so the reference stays plain text that can be edited, copied or deleted like
 * any other (delete the text and the image goes with it). And pasting or dropping an image file uploads it and
 * inserts its reference where the cursor is.
 *
 * The image source is the caller's: an `<img>` cannot send the Authorization header the media route needs, so
 * `imageUrl` typically fetches the bytes with the token and answers a blob URL (@collab/client fetchMedia +
 * URL.createObjectURL). Each id is asked for once per editor; a failed load shows the alt text, marked broken.
 */
import { MEDIA_REFERENCE } from '@collab/client';
import type { Extension, Range } from '@codemirror/state';
import { StateEffect } from '@codemirror/state';
import type { DecorationSet, ViewUpdate } from '@codemirror/view';
import { Decoration, EditorView, ViewPlugin, WidgetType } from '@codemirror/view';

export interface MediaImagesOptions {
  /** The URL to show media `id` from (e.g. a blob URL of the bytes fetched with the token). */
  imageUrl(id: string): Promise<string>;
}

export interface MediaPasteOptions {
  /**
   * Upload a pasted or dropped image and answer the reference to insert (@collab/client uploadMedia's
   * `reference`); show progress meanwhile. A rejection inserts nothing (report it to the user there).
   */
  upload(file: File): Promise<string>;
}

type Loaded = { state: 'loading' } | { state: 'ready'; url: string } | { state: 'failed' };

/** A load finished: the widgets are drawn again. */
const imageLoaded = StateEffect.define<string>();

class ImageWidget extends WidgetType {
  constructor(
    readonly id: string,
    readonly alt: string,
    readonly loaded: Loaded,
  ) {
    super();
  }

  override eq(other: ImageWidget): boolean {
    return other.id === this.id && other.alt === this.alt && other.loaded.state === this.loaded.state;
  }

  toDOM(): HTMLElement {
    const box = document.createElement('span');
    box.className = `cm-media cm-media-${this.loaded.state}`;
    box.dataset.media = this.id;
    if (this.loaded.state === 'ready') {
      const img = document.createElement('img');
      img.src = this.loaded.url;
      img.alt = this.alt;
      box.append(img);
    } else {
      box.textContent =
        this.loaded.state === 'loading' ? '…' : `[image unavailable: ${this.alt || this.id.slice(0, 8)}]`;
    }
    return box;
  }

  override ignoreEvent(): boolean {
    return false;
  }
}

/** Show the image of every `![alt](media:ID)` reference after it. */
export function mediaImages(options: MediaImagesOptions): Extension {
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      private readonly images = new Map<string, Loaded>();

      constructor(readonly view: EditorView) {
        this.decorations = this.build();
      }

      update(update: ViewUpdate): void {
        const reloaded = update.transactions.some((tr) => tr.effects.some((e) => e.is(imageLoaded)));
        if (update.docChanged || update.viewportChanged || reloaded) this.decorations = this.build();
      }

      private loadedOf(id: string): Loaded {
        const known = this.images.get(id);
        if (known !== undefined) return known;
        this.images.set(id, { state: 'loading' });
        options.imageUrl(id).then(
          (url) => this.settle(id, { state: 'ready', url }),
          () => this.settle(id, { state: 'failed' }),
        );
        return { state: 'loading' };
      }

      private settle(id: string, loaded: Loaded): void {
        this.images.set(id, loaded);
        // The view may be gone by now (a history visit replaces it): then there is nothing to draw.
        if (this.view.dom.isConnected) this.view.dispatch({ effects: imageLoaded.of(id) });
      }

      private build(): DecorationSet {
        const widgets: Range<Decoration>[] = [];
        for (const { from, to } of this.view.visibleRanges) {
          const text = this.view.state.doc.sliceString(from, to);
          for (const match of text.matchAll(MEDIA_REFERENCE)) {
            const [token, alt = '', id = ''] = match;
            const end = from + match.index + token.length;
            widgets.push(
              Decoration.widget({ widget: new ImageWidget(id, alt, this.loadedOf(id)), side: 1 }).range(end),
            );
          }
        }
        return Decoration.set(widgets, true);
      }
    },
    { decorations: (plugin) => plugin.decorations },
  );
}

/** Upload images pasted or dropped into the editor, and insert each one's reference at the cursor. */
export function mediaPaste(options: MediaPasteOptions): Extension {
  const handle = (files: readonly File[], view: EditorView): boolean => {
    const images = files.filter((f) => f.type.startsWith('image/'));
    if (images.length === 0) return false;
    for (const file of images) {
      options.upload(file).then(
        (reference) => {
          if (!view.dom.isConnected) return;
          const at = view.state.selection.main.head;
          view.dispatch({ changes: { from: at, insert: reference }, selection: { anchor: at + reference.length } });
        },
        () => {}, // the uploader told the user
      );
    }
    return true;
  };
  return EditorView.domEventHandlers({
    paste: (event, view) => handle([...(event.clipboardData?.files ?? [])], view),
    drop: (event, view) => {
      const dropped = handle([...(event.dataTransfer?.files ?? [])], view);
      if (dropped) event.preventDefault();
      return dropped;
    },
  });
}
