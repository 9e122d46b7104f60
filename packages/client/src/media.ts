/**
 * Images in documents (docs/protocol.md, "Media"): upload the bytes over HTTP, then insert the reference the
 * upload returns (`![alt](media:ID)`) into the text like any other edit; fetch them back with the token.
 *
 * Uploads report progress. In a browser they go through XMLHttpRequest, whose `upload` events are the one
 * dependable way to see a request body leave; where there is no XMLHttpRequest (Node) through fetch, which reports
 * only the end. Everything the server refuses comes back as a CollabClientError with the server's code
 * (ERR_MEDIA_TOO_LARGE, ERR_MEDIA_TYPE, ERR_FORBIDDEN, ...).
 */
import { isMediaId, mediaReference } from '@collab/protocol';
import { CollabClientError } from './errors.js';

export interface MediaTarget {
  /** The server: its http(s) URL, or the WebSocket URL the client connects to (ws→http, the path is ignored). */
  server: string;
  /** A token with `write` on the document for an upload, `read` for a fetch; or a function returning a fresh one. */
  token: string | (() => string | Promise<string>);
  docId: string;
}

export interface UploadMediaOptions extends MediaTarget {
  /** The image: a File or Blob (its `type` is the content type unless `contentType` says), or bytes. */
  data: Blob | Uint8Array;
  /** image/png, image/jpeg, image/gif or image/webp. */
  contentType?: string;
  /** The alt text of the reference. */
  alt?: string;
  /** Called as the bytes go out: bytes sent so far and the total. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export interface UploadedMedia {
  /** The media id: the SHA-256 of the bytes, hex. */
  id: string;
  /** The text to insert into the document: `![alt](media:ID)`. */
  reference: string;
}

/** The HTTP URL of a document's media (its upload route without `id`). */
export function mediaUrl(server: string, docId: string, id?: string): string {
  const base = new URL(server.replace(/^ws(s?):/i, 'http$1:'));
  const path = `/v1/docs/${encodeURIComponent(docId)}/media${id === undefined ? '' : `/${id}`}`;
  return new URL(path, base.origin).toString();
}

const tokenOf = async (token: MediaTarget['token']): Promise<string> =>
  typeof token === 'string' ? token : await token();

interface Answer {
  status: number;
  body: string;
}

/** The server's `{code, message}` as a CollabClientError (5xx and 429 are worth retrying). */
function refusal(answer: Answer): CollabClientError {
  let code = `HTTP_${answer.status}`;
  let message = `the server answered ${answer.status}`;
  try {
    const parsed = JSON.parse(answer.body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the status
  }
  return new CollabClientError(code, message, answer.status >= 500 || answer.status === 429);
}

/** Upload an image to a document: its id and the reference to insert. */
export async function uploadMedia(options: UploadMediaOptions): Promise<UploadedMedia> {
  const contentType = options.contentType ?? (options.data instanceof Blob ? options.data.type : '');
  const total = options.data instanceof Blob ? options.data.size : options.data.byteLength;
  const request = {
    url: mediaUrl(options.server, options.docId),
    headers: { authorization: `Bearer ${await tokenOf(options.token)}`, 'content-type': contentType },
    body: options.data,
  };
  const onProgress = options.onProgress ?? (() => {});
  const Xhr = xhrConstructor();
  const answer =
    Xhr === undefined
      ? await sendWithFetch(request, options.signal)
      : await sendWithXhr(new Xhr(), request, onProgress, options.signal);
  if (answer.status !== 201) throw refusal(answer);
  onProgress(total, total);
  const { id } = JSON.parse(answer.body) as { id: string };
  if (!isMediaId(id)) throw new CollabClientError('ERR_BAD_ANSWER', `the server answered a malformed media id`);
  return { id, reference: mediaReference(id, options.alt) };
}

/** The bytes of an image of a document (a Blob with its type), e.g. for `URL.createObjectURL`. */
export async function fetchMedia(options: MediaTarget & { id: string; signal?: AbortSignal }): Promise<Blob> {
  const response = await fetch(mediaUrl(options.server, options.docId, options.id), {
    headers: { authorization: `Bearer ${await tokenOf(options.token)}` },
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (!response.ok) throw refusal({ status: response.status, body: await response.text() });
  return response.blob();
}

/** What the SDK uses of XMLHttpRequest (declared here: the SDK is also compiled without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: {
    onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null;
  };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

/** The browser's XMLHttpRequest, where there is one. */
const xhrConstructor = (): (new () => Xhr) | undefined =>
  (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

interface Request {
  url: string;
  headers: Record<string, string>;
  body: Blob | Uint8Array;
}

function sendWithXhr(
  xhr: Xhr,
  request: Request,
  onProgress: (sent: number, total: number) => void,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    xhr.open('POST', request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
    // A network failure, or the server closing the connection after its 413 before the browser read the answer.
    xhr.onerror = () => reject(new CollabClientError('ERR_NETWORK', `the upload to ${request.url} failed`, true));
    xhr.onabort = () => reject(new CollabClientError('ERR_ABORTED', 'the upload was aborted'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(request.body);
  });
}

async function sendWithFetch(request: Request, signal: AbortSignal | undefined): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body as Blob,
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    if (signal?.aborted === true)
      throw new CollabClientError('ERR_ABORTED', 'the upload was aborted', false, { cause: err });
    throw new CollabClientError('ERR_NETWORK', `the upload to ${request.url} failed`, true, { cause: err });
  }
  return { status: response.status, body: await response.text() };
}
