/**
 * The media HTTP API's contract (docs/protocol.md, "Media"): what `POST /v1/docs/:docId/media` and
 * `GET /v1/docs/:docId/media/:id` answer, in both modes. Call it with a factory for a running server whose upload
 * cap is MEDIA_API_TEST_MAX_BYTES, a way to sign tokens, and a view of what its media store holds: every refusal
 * is checked to have stored nothing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';

/** The upload cap the server under test must be started with. */
export const MEDIA_API_TEST_MAX_BYTES = 64 * 1024;

export interface MediaApiServer {
  /** http://host:port */
  url: string;
  token(userId: string, docs: Record<string, Array<'read' | 'write' | 'comment'>>): Promise<string>;
  /** The ids the server's media store holds now. */
  storedIds(): Promise<string[]>;
}

const SIGNATURE = {
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/jpeg': [0xff, 0xd8, 0xff, 0xe0],
  'image/gif': [...Buffer.from('GIF89a')],
  'image/webp': [...Buffer.from('RIFF'), 0x10, 0, 0, 0, ...Buffer.from('WEBPVP8 ')],
};

/** Bytes that start like an image of `type`, then random (unique per call). */
export function imageBytes(type: keyof typeof SIGNATURE, size = 256): Buffer {
  const bytes = randomBytes(size);
  Buffer.from(SIGNATURE[type]).copy(bytes);
  return bytes;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function mediaApiContract(name: string, factory: () => Promise<MediaApiServer>): void {
  describe(`media API contract: ${name}`, function () {
    let server: MediaApiServer;
    let doc: string;
    let writer: string;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const mediaUrl = (docId: string, id?: string) =>
      `${server.url}/v1/docs/${encodeURIComponent(docId)}/media${id === undefined ? '' : `/${id}`}`;
    const upload = (docId: string, body: Uint8Array, type: string, token?: string) =>
      fetch(mediaUrl(docId), {
        method: 'POST',
        headers: { 'content-type': type, ...(token === undefined ? {} : bearer(token)) },
        body,
      });
    const codeOf = async (response: Response) => ((await response.json()) as { code: string }).code;
    /** Runs `refused`, checks its status and code, and that the store holds what it held before. */
    const refusedAndNothingStored = async (
      refused: () => Promise<Response>,
      status: number,
      code: string,
    ): Promise<void> => {
      const before = (await server.storedIds()).sort();
      const response = await refused();
      assert.equal(response.status, status, `status of a request that must be refused with ${code}`);
      assert.equal(await codeOf(response), code);
      assert.deepEqual((await server.storedIds()).sort(), before, 'a refused request stored something');
    };

    before(async function () {
      server = await factory();
    });
    beforeEach(async function () {
      doc = `media-doc-${randomUUID()}`;
      writer = await server.token('writer', { [doc]: ['read', 'write'] });
    });

    it('stores an image under its SHA-256 and serves it back with its type, nosniff and immutable caching', async function () {
      const bytes = imageBytes('image/png', 5000);
      const response = await upload(doc, bytes, 'image/png', writer);
      assert.equal(response.status, 201);
      const { id } = (await response.json()) as { id: string };
      assert.equal(id, sha256(bytes));
      assert.ok((await server.storedIds()).includes(id));

      const reader = await server.token('reader', { [doc]: ['read'] });
      const got = await fetch(mediaUrl(doc, id), { headers: bearer(reader) });
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'image/png');
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(got.headers.get('cache-control'), 'private, max-age=31536000, immutable');
      assert.equal(got.headers.get('etag'), `"${id}"`);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);

      const again = await fetch(mediaUrl(doc, id), { headers: { ...bearer(reader), 'if-none-match': `"${id}"` } });
      assert.equal(again.status, 304);
    });

    it('accepts JPEG, GIF and WebP, each served with its own type', async function () {
      for (const type of ['image/jpeg', 'image/gif', 'image/webp'] as const) {
        const response = await upload(doc, imageBytes(type), type, writer);
        assert.equal(response.status, 201, type);
        const { id } = (await response.json()) as { id: string };
        const got = await fetch(mediaUrl(doc, id), { headers: bearer(writer) });
        assert.equal(got.headers.get('content-type'), type);
      }
    });

    it('answers the same id for the same bytes uploaded twice', async function () {
      const bytes = imageBytes('image/gif');
      const first = (await (await upload(doc, bytes, 'image/gif', writer)).json()) as { id: string };
      const second = (await (await upload(doc, bytes, 'image/gif', writer)).json()) as { id: string };
      assert.equal(first.id, second.id);
    });

    it('refuses a body over the cap with 413 ERR_MEDIA_TOO_LARGE, and stores nothing', async function () {
      await refusedAndNothingStored(
        () => upload(doc, imageBytes('image/png', MEDIA_API_TEST_MAX_BYTES + 1), 'image/png', writer),
        413,
        'ERR_MEDIA_TOO_LARGE',
      );
      // Exactly the cap is fine.
      assert.equal(
        (await upload(doc, imageBytes('image/png', MEDIA_API_TEST_MAX_BYTES), 'image/png', writer)).status,
        201,
      );
    });

    it('counts a chunked body without Content-Length as it arrives: 413 once past the cap, nothing stored', async function () {
      const before = (await server.storedIds()).sort();
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(mediaUrl(doc), {
          method: 'POST',
          headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked', ...bearer(writer) },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        // Four times the cap, in 8 KiB chunks; the server may answer and close before the end.
        const chunk = imageBytes('image/png', 8 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 4 * MEDIA_API_TEST_MAX_BYTES && !req.destroyed) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      assert.equal(status, 413);
      assert.equal((JSON.parse(body) as { code: string }).code, 'ERR_MEDIA_TOO_LARGE');
      assert.deepEqual((await server.storedIds()).sort(), before);
    });

    it('refuses a type off the allow-list (SVG, HTML, none) with 415 ERR_MEDIA_TYPE, and stores nothing', async function () {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      await refusedAndNothingStored(() => upload(doc, svg, 'image/svg+xml', writer), 415, 'ERR_MEDIA_TYPE');
      await refusedAndNothingStored(() => upload(doc, svg, 'text/html', writer), 415, 'ERR_MEDIA_TYPE');
      await refusedAndNothingStored(() => upload(doc, svg, '', writer), 415, 'ERR_MEDIA_TYPE');
    });

    it('refuses bytes that are not the declared type with 415 ERR_MEDIA_CONTENT, and stores nothing', async function () {
      const html = Buffer.from('<html><script>alert(1)</script></html>');
      await refusedAndNothingStored(() => upload(doc, html, 'image/png', writer), 415, 'ERR_MEDIA_CONTENT');
      await refusedAndNothingStored(
        () => upload(doc, imageBytes('image/gif'), 'image/png', writer),
        415,
        'ERR_MEDIA_CONTENT',
      );
    });

    it('refuses an empty body with 400 ERR_MEDIA_EMPTY', async function () {
      await refusedAndNothingStored(() => upload(doc, new Uint8Array(0), 'image/png', writer), 400, 'ERR_MEDIA_EMPTY');
    });

    it('refuses an upload without a token (401), or without write on the document (403), storing nothing', async function () {
      const bytes = imageBytes('image/png');
      await refusedAndNothingStored(() => upload(doc, bytes, 'image/png'), 401, 'ERR_UNAUTHENTICATED');
      const reader = await server.token('reader', { [doc]: ['read', 'comment'] });
      await refusedAndNothingStored(() => upload(doc, bytes, 'image/png', reader), 403, 'ERR_FORBIDDEN');
      const otherDocWriter = await server.token('other', { [`${doc}-other`]: ['read', 'write'] });
      await refusedAndNothingStored(() => upload(doc, bytes, 'image/png', otherDocWriter), 403, 'ERR_FORBIDDEN');
    });

    it('answers a refused upload before its body arrives: nothing of an upload nobody may make is kept', async function () {
      const reader = await server.token('reader', { [doc]: ['read'] });
      const cases: [Record<string, string>, number, string][] = [
        [{ 'content-type': 'image/png' }, 401, 'ERR_UNAUTHENTICATED'],
        [{ 'content-type': 'image/png', ...bearer(reader) }, 403, 'ERR_FORBIDDEN'],
        [{ 'content-type': 'image/svg+xml', ...bearer(writer) }, 415, 'ERR_MEDIA_TYPE'],
      ];
      for (const [headers, status, code] of cases) {
        // Announce a body as large as the cap, send its first kilobyte and no more: the answer must come anyway.
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(mediaUrl(doc), {
            method: 'POST',
            headers: { ...headers, 'content-length': String(MEDIA_API_TEST_MAX_BYTES) },
          });
          const timer = setTimeout(() => {
            req.destroy();
            reject(new Error(`no answer to a ${code} upload while its body was still to come`));
          }, 10_000);
          req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              clearTimeout(timer);
              req.destroy();
              resolve({ status: res.statusCode ?? 0, body: text });
            });
          });
          req.on('error', reject); // after the answer (the request destroyed), a no-op
          req.write(imageBytes('image/png', 1024));
        });
        assert.equal(answer.status, status, code);
        assert.equal((JSON.parse(answer.body) as { code: string }).code, code);
      }
    });

    it('serves a blob only for a document it was uploaded to, to a reader of that document', async function () {
      const other = `${doc}-b`;
      const bytes = imageBytes('image/jpeg');
      const both = await server.token('both', { [doc]: ['read', 'write'], [other]: ['read', 'write'] });
      const { id } = (await (await upload(other, bytes, 'image/jpeg', both)).json()) as { id: string };
      // A reader of doc who knows the hash of a blob only uploaded to `other`: not found, through doc.
      const reader = await server.token('reader', { [doc]: ['read'] });
      const viaDoc = await fetch(mediaUrl(doc, id), { headers: bearer(reader) });
      assert.equal(viaDoc.status, 404);
      assert.equal(await codeOf(viaDoc), 'ERR_NOT_FOUND');
      // ... and through `other`, which they may not read: forbidden.
      const viaOther = await fetch(mediaUrl(other, id), { headers: bearer(reader) });
      assert.equal(viaOther.status, 403);
      assert.equal((await fetch(mediaUrl(other, id))).status, 401);
      // Once uploaded to doc as well, a reader of doc gets it.
      assert.equal((await upload(doc, bytes, 'image/jpeg', both)).status, 201);
      assert.equal((await fetch(mediaUrl(doc, id), { headers: bearer(reader) })).status, 200);
    });

    it('answers 400 ERR_INVALID_MEDIA_ID for a malformed id and 404 for an unknown one', async function () {
      for (const bad of ['abc', 'A'.repeat(64), `${'0'.repeat(63)}g`, `${'0'.repeat(64)}0`, '%30']) {
        const response = await fetch(mediaUrl(doc, bad), { headers: bearer(writer) });
        assert.equal(response.status, 400, bad);
        assert.equal(await codeOf(response), 'ERR_INVALID_MEDIA_ID');
      }
      const unknown = await fetch(mediaUrl(doc, sha256(randomBytes(8))), { headers: bearer(writer) });
      assert.equal(unknown.status, 404);
    });

    it('answers 405 for other methods', async function () {
      assert.equal((await fetch(mediaUrl(doc), { method: 'GET', headers: bearer(writer) })).status, 405);
      const id = sha256(randomBytes(8));
      assert.equal((await fetch(mediaUrl(doc, id), { method: 'DELETE', headers: bearer(writer) })).status, 405);
    });
  });
}
