/**
 * The history slider in a real browser: after a few edits, moving the slider back shows the document exactly as
 * it was at that version (fetched from the read API), read-only; moving it to the end returns to live editing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir } from '../support/browser.js';
import { until, usePageServer } from './page-server.js';

describe('web editor history slider in Chromium (embedded server)', function () {
  this.timeout(120_000);
  const env = usePageServer('collab-e2e-history-');

  it('shows an earlier version read-only, and returns to live editing', async () => {
    const docId = `e2e-history-${Date.now()}`;
    const page: Page = await (await env.newContext()).newPage();
    await page.goto(`${env.server.url}/?doc=${docId}&name=hana`);
    await page.locator('.cm-content').waitFor();
    const doc = (): Promise<{ text: string; version: number; pending: number }> =>
      page.evaluate(() => {
        const d = (window as any).collab.doc;
        return { text: d.text, version: d.version, pending: d.pendingCount };
      });
    // Three separately acknowledged edits: versions 1, 2, 3.
    await page.locator('.cm-content').click();
    for (const word of ['one ', 'two ', 'three ']) {
      const before = (await doc()).version;
      await page.keyboard.type(word);
      await until(`"${word}" is acknowledged`, async () => {
        const d = await doc();
        return d.pending === 0 && d.version > before;
      });
    }
    const live = await doc();
    assert.equal(live.text, 'one two three ');

    // The read models are written by the projection shortly after each commit: wait until version 1 is served.
    const slider = page.locator('#history');
    await until('the slider reaches the head', async () => (await slider.getAttribute('max')) === String(live.version));
    const oneVersionIn = String(live.version - 2);
    await until('an earlier version is shown read-only', async () => {
      await slider.fill(oneVersionIn);
      return (
        (await page.locator('pre.readonly').count()) === 1 &&
        (await page.locator('#history-label').innerText()).includes('read-only')
      );
    });
    // Version head-2 is the document after the first word's op(s): it starts with "one" and lacks "three".
    const old = await page.locator('pre.readonly').innerText();
    assert.ok(old.startsWith('one') && !old.includes('three'), `version ${oneVersionIn} showed ${JSON.stringify(old)}`);
    await page.screenshot({ path: join(artifactsDir(), 'e2e-history.png') });

    await slider.fill(String(live.version));
    await until('live editing is back', async () => (await page.locator('.cm-content').count()) === 1);
    await page.locator('.cm-content').click();
    await page.keyboard.press('End');
    await page.keyboard.type('four');
    await until(
      'the new edit is acknowledged',
      async () => (await doc()).text === 'one two three four' && (await doc()).pending === 0,
    );
  });
});
