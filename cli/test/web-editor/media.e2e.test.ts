/**
 * Images in the web editor, in Chromium against the embedded server: Ana pastes a PNG; it is uploaded (the progress
 * bar shows), its reference `![chart](media:ID)` is inserted at her cursor, and Ben's editor shows the image inline
 * after the reference, fetched with his token. The reference stays text: typing before it keeps the image on it,
 * and deleting it removes the image. A screenshot goes to artifacts/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { artifactsDir } from '../support/browser.js';
import { openEditorAs, until, usePageServer } from './page-server.js';

/** A real PNG (so the browser decodes and draws it): a width × height colour gradient. */
function gradientPng(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = Math.round((255 * x) / width);
      rows[row + 2 + x * 3] = Math.round((255 * y) / height);
      rows[row + 3 + x * 3] = 160;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const sdkText = (page: Page): Promise<string> => page.evaluate(() => (window as any).collab?.doc?.text ?? '');

/** The images the editor shows: media id and drawn width (0 until decoded). */
const shownImages = (page: Page): Promise<Array<{ id: string; width: number }>> =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.cm-media')].map((box) => ({
      id: box.dataset.media ?? '',
      width: box.querySelector('img')?.naturalWidth ?? 0,
    })),
  );

describe('web editor images in Chromium (embedded server)', function () {
  this.timeout(120_000);
  const env = usePageServer('collab-media-e2e-');

  it('an image pasted in one browser is uploaded with a progress bar and appears inline in the other', async () => {
    const docId = `media-e2e-${Date.now()}`;
    const [ana, ben] = await Promise.all([openEditorAs(env, 'ana', docId), openEditorAs(env, 'ben', docId)]);
    await ana.locator('.cm-content').click();
    await ana.keyboard.type('Sales this quarter: ');
    await until('Ben has the text', async () => (await sdkText(ben)) === 'Sales this quarter: ');

    const png = gradientPng(240, 120);
    const id = createHash('sha256').update(png).digest('hex');
    // Record whether the upload bar showed: the upload itself is too quick on this machine to poll for.
    await ana.evaluate(() => {
      const bar = document.getElementById('upload-progress')!;
      new MutationObserver(() => {
        if (!bar.hidden) (window as any).uploadBarShown = true;
      }).observe(bar, { attributes: true });
    });
    await ana.evaluate(
      (bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'chart.png', { type: 'image/png' }));
        const view = (window as any).collab.view();
        view.contentDOM.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
        );
      },
      [...png],
    );

    const reference = `![chart](media:${id})`;
    await until(
      "the reference is in Ana's text",
      async () => (await sdkText(ana)) === `Sales this quarter: ${reference}`,
    );
    assert.equal(
      await ana.evaluate(() => (window as any).uploadBarShown === true),
      true,
      'the progress bar never showed',
    );
    await until('Ben sees the image drawn', async () => {
      const images = await shownImages(ben);
      return images.length === 1 && images[0]!.id === id && images[0]!.width === 240;
    });
    await until('Ana sees it too', async () => (await shownImages(ana)).some((i) => i.width === 240));

    // The reference is text: Ben types before it, the image stays with it in both editors.
    await ben.evaluate(() => (window as any).collab.view().dispatch({ changes: { from: 0, insert: 'Q3. ' } }));
    await until('both have the edit', async () =>
      (await Promise.all([ana, ben].map(sdkText))).every((t) => t === `Q3. Sales this quarter: ${reference}`),
    );
    assert.deepEqual(await shownImages(ana), [{ id, width: 240 }]);
    await ana.screenshot({ path: join(artifactsDir(), 'e2e-media-inline-image.png') });

    // Deleting the reference's text removes the image.
    await ana.evaluate((ref) => {
      const view = (window as any).collab.view();
      const from = view.state.doc.toString().indexOf(ref);
      view.dispatch({ changes: { from, to: from + ref.length } });
    }, reference);
    await until('Ben shows no image', async () => (await shownImages(ben)).length === 0);
  });

  describe('an image over the cap', function () {
    const small = usePageServer('collab-media-cap-e2e-', { env: () => ({ COLLAB_MEDIA_MAX_BYTES: '65536' }) });

    it('is refused with a message; nothing is inserted', async () => {
      const docId = `media-cap-e2e-${Date.now()}`;
      const ana = await openEditorAs(small, 'ana', docId);
      await ana.evaluate((size) => {
        const bytes = new Uint8Array(size);
        bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'huge.png', { type: 'image/png' }));
        const view = (window as any).collab.view();
        view.contentDOM.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
        );
      }, 1024 * 1024);
      await until('the page says why', async () => !(await ana.locator('#banner').isHidden()));
      assert.match(
        (await ana.locator('#banner').textContent()) ?? '',
        /could not be uploaded: an upload may be at most 65536 bytes/,
      );
      assert.equal(await sdkText(ana), '');
    });
  });
});
