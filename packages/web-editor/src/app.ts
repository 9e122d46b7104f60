/**
 * The web editor page. Served by the server at `/` (embedded and distributed modes). Flow: get a token (given in
 * the address as `&token=…`, which the page removes from it at once; or, in the embedded mode, from the dev token
 * endpoint, given a name), open the document named in the URL (`/?doc=ID`),
 * and keep the page honest about its state: connection, pending edits, large-paste progress, and any unsent work.
 */
import type { ClientDocument, RemoteUser } from '@collab/client';
import { CollabClient, fetchMedia, UndoManager, uploadMedia } from '@collab/client';
import { collabRedo, collabUndo } from '@collab/codemirror';
import type { EditorView } from '@codemirror/view';
import type { Binding } from './editor-binding.js';
import { bindEditor } from './editor-binding.js';
import { showComments } from './comments-panel.js';
import { HistoryView } from './history-view.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const params = new URLSearchParams(location.search);
const storedName = localStorage.getItem('collab.name') ?? '';

const TOKEN_KEY = 'collab.token';

/**
 * A token given in the address (?token=…) is taken out of it before anything else runs: an address stays in the
 * history, in bookmarks and on screen, gets pasted into chats and sent on as a Referer. This tab keeps the token
 * (sessionStorage, gone with the tab) so a reload still works.
 */
function takeTokenFromAddress(): string | null {
  const inAddress = params.get('token');
  if (inAddress === null) return sessionStorage.getItem(TOKEN_KEY);
  sessionStorage.setItem(TOKEN_KEY, inAddress);
  params.delete('token');
  const query = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${query === '' ? '' : `?${query}`}${location.hash}`);
  return inAddress;
}

async function devToken(name: string): Promise<string> {
  const res = await fetch('/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: name }),
  });
  if (!res.ok) throw new Error(`no dev token endpoint (${res.status}): open the page with &token=…`);
  return ((await res.json()) as { token: string }).token;
}

function showLogin(): void {
  const form = $<HTMLFormElement>('login');
  form.hidden = false;
  $<HTMLInputElement>('login-name').value = storedName;
  $<HTMLInputElement>('login-doc').value = params.get('doc') ?? 'welcome';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>('login-name').value.trim();
    const docId = $<HTMLInputElement>('login-doc').value.trim();
    localStorage.setItem('collab.name', name);
    const next = new URLSearchParams({ doc: docId, name });
    location.search = next.toString();
  });
}

function setStatus(state: string, detail = ''): void {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = detail === '' ? state : `${state} · ${detail}`;
}

/** "Who is here": coloured initials, the name as the title; one entry per user however many tabs they have. */
function showPresence(users: readonly RemoteUser[]): void {
  const el = $('presence');
  const byUser = new Map(users.map((u) => [u.userId, u]));
  el.replaceChildren(
    ...[...byUser.values()].map((u) => {
      const badge = document.createElement('span');
      badge.className = 'user';
      badge.style.background = u.color;
      badge.title = u.name;
      badge.dataset.user = u.userId;
      badge.textContent = initials(u.name);
      return badge;
    }),
  );
}

function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0]![0]! + words[words.length - 1]![0]! : name.slice(0, 2);
  return letters.toUpperCase();
}

function offerDownload(text: string, reason: string): void {
  const banner = $('banner');
  banner.hidden = false;
  banner.textContent = `Some of your edits could not be sent (${reason}). `;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  a.download = 'unsent-work.txt';
  a.textContent = 'Download your unsent text';
  banner.append(a);
}

/**
 * Images: pasted or dropped ones are uploaded with a progress bar, then their reference is inserted; references are
 * shown through blob URLs of the bytes fetched with the token (an <img> cannot send it). One URL per id per page.
 */
function mediaSupport(token: string, docId: string) {
  const server = location.origin;
  const urls = new Map<string, Promise<string>>();
  const bar = $('upload-progress');
  const fill = bar.firstElementChild as HTMLElement;
  return {
    imageUrl(id: string): Promise<string> {
      let url = urls.get(id);
      if (url === undefined) {
        url = fetchMedia({ server, token, docId, id }).then((blob) => URL.createObjectURL(blob));
        url.catch(() => urls.delete(id)); // a later render tries again
        urls.set(id, url);
      }
      return url;
    },
    async upload(file: File): Promise<string> {
      bar.hidden = false;
      fill.style.width = '0%';
      try {
        const { reference } = await uploadMedia({
          server,
          token,
          docId,
          data: file,
          alt: file.name.replace(/\.[a-z0-9]+$/i, ''),
          onProgress: (sent, total) => {
            fill.style.width = `${Math.round((100 * sent) / Math.max(1, total))}%`;
          },
        });
        return reference;
      } catch (err) {
        const banner = $('banner');
        banner.hidden = false;
        banner.textContent = `The image could not be uploaded: ${(err as Error).message}`;
        throw err;
      } finally {
        bar.hidden = true;
      }
    },
  };
}

async function main(): Promise<void> {
  const given = takeTokenFromAddress();
  const docId = params.get('doc');
  const name = params.get('name') ?? storedName;
  if (docId === null || (name === '' && given === null)) {
    showLogin();
    return;
  }
  $('doc-name').textContent = docId;
  $('workspace').hidden = false;
  const token = given ?? (await devToken(name));
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new CollabClient({
    // The doc hint: a load balancer hashing on it keeps this document's editors on one instance (docs/protocol.md).
    url: `${scheme}://${location.host}/v1/ws?doc=${encodeURIComponent(docId)}`,
    token,
    ...(name === '' ? {} : { presence: { name } }),
  });
  // For tests and debugging: the live objects.
  (window as unknown as Record<string, unknown>).collab = { client };

  client.events.on('state', ({ state, delayMs }) =>
    setStatus(state, delayMs === undefined ? '' : `retry in ${Math.ceil(delayMs / 1000)} s`),
  );
  client.events.on('pending', ({ count }) => {
    $('pending').textContent = count === 0 ? 'all saved' : `${count} pending`;
  });

  const doc: ClientDocument = await client.openDocument(docId);
  // Undo/redo act on this user's own edits only (others' text is never removed); the cursor goes where it happened.
  // One history for the keys (inside collab()) and the buttons.
  const undo = new UndoManager(doc);
  const step = (command: (view: EditorView) => boolean) => {
    command(binding.view);
    binding.view.focus();
  };
  $('undo').addEventListener('click', () => step(collabUndo));
  $('redo').addEventListener('click', () => step(collabRedo));
  const media = mediaSupport(token, docId);
  let binding: Binding = bindEditor($('editor'), doc, undo, media);
  // For tests and debugging: the live objects, the editor's view included (it is replaced after a history visit).
  (window as unknown as Record<string, unknown>).collab = { client, doc, view: () => binding.view };
  $('pending').textContent = 'all saved';
  showPresence(doc.others);
  doc.on('presence', ({ users }) => showPresence(users));

  const progress = $('paste-progress');
  doc.on('progress', ({ sent, total }) => {
    progress.hidden = sent >= total;
    (progress.firstElementChild as HTMLElement).style.width = `${Math.round((100 * sent) / Math.max(1, total))}%`;
  });
  showComments({
    doc,
    list: $('threads'),
    form: $<HTMLFormElement>('comment-form'),
    input: $<HTMLInputElement>('comment-text'),
    selection: () => binding.view.state.selection.main,
    say: (message) => {
      const banner = $('banner');
      banner.hidden = false;
      banner.textContent = message;
    },
  });
  doc.on('unsent', (work) => offerDownload(work.localText, work.reason));
  doc.on('pending-limit', ({ limit, work }) => {
    offerDownload(work.localText, `more than ${limit} edits waiting while offline; reload to continue`);
    binding.view.contentDOM.setAttribute('contenteditable', 'false');
  });

  const history = new HistoryView({
    slider: $<HTMLInputElement>('history'),
    label: $('history-label'),
    token,
    docId,
    currentVersion: () => doc.version,
    show: (text) => {
      // A read-only view of an earlier version, in place of the live editor, until the slider returns to "now".
      binding.destroy();
      const parent = $('editor');
      parent.textContent = '';
      const pre = document.createElement('pre');
      pre.className = 'cm-editor readonly';
      pre.textContent = text;
      parent.append(pre);
    },
    live: () => {
      $('editor').textContent = '';
      binding = bindEditor($('editor'), doc, undo, media);
    },
  });
  doc.on('change', () => history.onVersion());
  doc.on('ack', () => history.onVersion()); // our own edits advance the version when acknowledged
}

main().catch((err: unknown) => {
  setStatus('closed', (err as Error).message);
  console.error(err);
});
