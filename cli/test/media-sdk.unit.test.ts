/**
 * The SDK's media functions (@collab/client uploadMedia / fetchMedia) against a real embedded server: the id and
 * the reference to insert, progress, the bytes back with their type, and the server's refusals as
 * CollabClientError codes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CollabClientError, fetchMedia, MEDIA_REFERENCE, mediaUrl, uploadMedia } from '@collab/client';
import { imageBytes } from '@collab/contracts';
import { startTestServer, type TestServer } from '../src/testing.js';

describe('SDK media: uploadMedia and fetchMedia', function () {
  let server: TestServer;
  before(async function () {
    server = await startTestServer({ env: { COLLAB_MEDIA_MAX_BYTES: '100000' } });
  });
  after(async function () {
    await server.close();
  });

  it('uploads, reports progress to the end, and answers the id and a reference that parses back to it', async function () {
    const bytes = imageBytes('image/webp', 50_000);
    const progress: Array<[number, number]> = [];
    const uploaded = await uploadMedia({
      server: server.wsUrl, // the WebSocket URL works as well as the http one
      token: () => server.token('ann'),
      docId: 'notes/with space',
      data: new Blob([bytes], { type: 'image/webp' }),
      alt: 'a [chart]',
      onProgress: (sent, total) => progress.push([sent, total]),
    });
    assert.equal(uploaded.id, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(uploaded.reference, `![a chart](media:${uploaded.id})`);
    const [match] = [...uploaded.reference.matchAll(MEDIA_REFERENCE)];
    assert.equal(match?.[2], uploaded.id);
    assert.deepEqual(progress.at(-1), [bytes.length, bytes.length]);

    const blob = await fetchMedia({
      server: server.url,
      token: await server.token('ann'),
      docId: 'notes/with space',
      id: uploaded.id,
    });
    assert.equal(blob.type, 'image/webp');
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), bytes);
  });

  it("throws the server's code: too large, wrong type, no permission, unknown media", async function () {
    const token = await server.token('ann');
    const refused = async (promise: Promise<unknown>, code: string) => {
      await assert.rejects(promise, (err: unknown) => err instanceof CollabClientError && err.code === code);
    };
    const upload = (data: Uint8Array, contentType: string, t = token) =>
      uploadMedia({ server: server.url, token: t, docId: 'd', data, contentType });
    await refused(upload(imageBytes('image/png', 100_001), 'image/png'), 'ERR_MEDIA_TOO_LARGE');
    await refused(upload(Buffer.from('<svg/>'), 'image/svg+xml'), 'ERR_MEDIA_TYPE');
    await refused(upload(imageBytes('image/gif'), 'image/png'), 'ERR_MEDIA_CONTENT');
    await refused(
      upload(imageBytes('image/png'), 'image/png', await server.token('r', { docs: { d: ['read'] } })),
      'ERR_FORBIDDEN',
    );
    await refused(fetchMedia({ server: server.url, token, docId: 'd', id: '0'.repeat(64) }), 'ERR_NOT_FOUND');
  });

  it('builds the media URL from an http or a WebSocket URL, escaping the document id', function () {
    assert.equal(mediaUrl('wss://example.com/v1/ws', 'a/b'), 'https://example.com/v1/docs/a%2Fb/media');
    assert.equal(mediaUrl('http://127.0.0.1:8080', 'x', 'ab'), 'http://127.0.0.1:8080/v1/docs/x/media/ab');
  });
});
