/**
 * The comments panel beside the editor: a box to comment on the selected text, and every thread — the words it is
 * on (or "text deleted" once they are gone), its messages, a reply box, resolve/reopen and delete. It follows the
 * SDK's threads ('comments' events; 'change' for the quoted words) and keeps each thread's element, so a reply
 * being typed survives the updates around it.
 */
import type { ClientDocument, ShownThread } from '@collab/client';

export interface CommentsPanelOptions {
  doc: ClientDocument;
  /** Where the threads are listed. */
  list: HTMLElement;
  /** The "comment on the selection" form and its text box. */
  form: HTMLFormElement;
  input: HTMLInputElement;
  /** The editor's selection, as UTF-16 offsets of the local text. */
  selection: () => { from: number; to: number };
  /** Tell the user something went wrong (a refused command, nothing selected). */
  say: (message: string) => void;
}

export function showComments(options: CommentsPanelOptions): void {
  const { doc, list, form, input, say } = options;
  const items = new Map<string, HTMLElement>();
  let scheduled = false;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const { from, to } = options.selection();
    if (text === '') return;
    if (from === to) return say('Select the words to comment on first.');
    input.value = '';
    doc.comment(from, to - from, text).catch((err: Error) => say(`The comment was not saved: ${err.message}`));
  });

  const render = () => {
    scheduled = false;
    const threads = doc.threads;
    const text = doc.text;
    const seen = new Set<string>();
    for (const thread of threads) {
      seen.add(thread.threadId);
      let item = items.get(thread.threadId);
      if (item === undefined) {
        item = newItem(thread.threadId);
        items.set(thread.threadId, item);
      }
      fill(item, thread, text);
      list.append(item); // in the SDK's order (appending an element already there moves it)
    }
    for (const [id, item] of items) {
      if (!seen.has(id)) {
        item.remove();
        items.delete(id);
      }
    }
  };
  const later = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  };

  function newItem(threadId: string): HTMLElement {
    const item = document.createElement('li');
    item.className = 'thread';
    item.dataset.thread = threadId;
    const quote = document.createElement('blockquote');
    const messages = document.createElement('div');
    messages.className = 'messages';
    const reply = document.createElement('form');
    reply.className = 'reply';
    const box = document.createElement('input');
    box.placeholder = 'Reply';
    box.maxLength = 10_000;
    reply.append(box);
    reply.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = box.value.trim();
      if (text === '') return;
      box.value = '';
      doc.comments.reply(threadId, text).catch((err: Error) => say(`The reply was not saved: ${err.message}`));
    });
    const actions = document.createElement('div');
    actions.className = 'actions';
    const resolve = document.createElement('button');
    resolve.className = 'resolve';
    resolve.type = 'button';
    resolve.addEventListener('click', () => {
      const resolved = item.dataset.resolved === 'true';
      (resolved ? doc.comments.reopen(threadId) : doc.comments.resolve(threadId)).catch((err: Error) =>
        say(`Not done: ${err.message}`),
      );
    });
    const remove = document.createElement('button');
    remove.className = 'delete';
    remove.type = 'button';
    remove.textContent = 'Delete';
    remove.addEventListener('click', () => {
      doc.comments.delete(threadId).catch((err: Error) => say(`Not deleted: ${err.message}`));
    });
    actions.append(resolve, remove);
    item.append(quote, messages, reply, actions);
    return item;
  }

  function fill(item: HTMLElement, thread: ShownThread, text: string): void {
    const [quote, messages, , actions] = item.children as unknown as [
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
    ];
    item.dataset.resolved = String(thread.resolved);
    item.dataset.detached = String(thread.anchor.detached);
    quote.textContent = thread.anchor.detached ? 'text deleted' : text.slice(thread.from, thread.to);
    messages.replaceChildren(
      ...thread.messages.map((m) => {
        const p = document.createElement('p');
        const who = document.createElement('b');
        who.textContent = m.authorId;
        p.append(who, ` ${m.text}`);
        return p;
      }),
    );
    (actions.firstElementChild as HTMLElement).textContent = thread.resolved ? 'Reopen' : 'Resolve';
  }

  doc.on('comments', later);
  doc.on('change', later);
  render();
}
