/**
 * Comment threads in the web editor, in Chromium against the embedded server: two people comment on ranges from
 * the page's panel while a third types before, between and after them; in every browser each thread stays on its
 * words (the editor's marks and the panel's quotes), replies and resolving reach everyone, and a thread whose words
 * are deleted shows as detached. Screenshots of the panel go to artifacts/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir } from '../support/browser.js';
import { openEditorAs, until, usePageServer } from './page-server.js';

const START = 'the quick brown fox jumps over the lazy dog';

const sdkText = (page: Page): Promise<string> => page.evaluate(() => (window as any).collab?.doc?.text ?? '');

/** Select `words` (the first occurrence) in the page's editor, as a mouse would. */
async function select(page: Page, words: string): Promise<void> {
  await page.evaluate((w) => {
    const view = (window as any).collab.view();
    const from = view.state.doc.toString().indexOf(w);
    if (from < 0) throw new Error(`"${w}" is not in the editor`);
    view.dispatch({ selection: { anchor: from, head: from + w.length } });
  }, words);
}

async function commentOn(page: Page, words: string, text: string): Promise<void> {
  await select(page, words);
  await page.locator('#comment-text').fill(text);
  await page.locator('#comment-form button').click();
}

/** Per thread, in the editor: the marked text; in the panel: the quote, the messages and whether resolved. */
async function threadsShown(page: Page): Promise<Record<string, { marked: string; quote: string; said: string[] }>> {
  return page.evaluate(() => {
    const out: Record<string, { marked: string; quote: string; said: string[] }> = {};
    for (const item of document.querySelectorAll<HTMLElement>('#threads .thread')) {
      const id = item.dataset.thread!;
      const marked = [...document.querySelectorAll(`.cm-comment[data-thread="${id}"]`)]
        .map((m) => m.textContent)
        .join('');
      out[id] = {
        marked,
        quote: item.querySelector('blockquote')!.textContent ?? '',
        said: [...item.querySelectorAll('.messages p')].map((p) => p.textContent ?? ''),
      };
    }
    return out;
  });
}

describe('web editor comments in Chromium (embedded server)', function () {
  this.timeout(120_000);
  const env = usePageServer('collab-comments-e2e-');

  const openAs = (name: string, docId: string, viewport = { width: 1100, height: 600 }) =>
    openEditorAs(env, name, docId, viewport);

  it('threads stay on their words in every browser while a third person types around them', async () => {
    const docId = `comments-e2e-${Date.now()}`;
    const [ana, ben, cho] = await Promise.all([
      openAs('ana', docId),
      openAs('ben', docId),
      openAs('cho', docId, { width: 390, height: 780 }),
    ]);
    await ana!.locator('.cm-content').click();
    await ana!.keyboard.type(START);
    const pages = [ana!, ben!, cho!];
    await until('everyone has the text', async () => (await Promise.all(pages.map(sdkText))).every((t) => t === START));

    // Cho types before, between and after the two ranges while Ana and Ben comment on them.
    const typing = (async () => {
      for (const [before, insert] of [
        ['the quick', 'Oh, '],
        ['jumps', 'then '],
        ['', ' indeed'],
      ] as const) {
        await cho!.evaluate((b) => {
          const view = (window as any).collab.view();
          const at = b === '' ? view.state.doc.length : view.state.doc.toString().indexOf(b);
          view.focus();
          view.dispatch({ selection: { anchor: at } });
        }, before);
        await cho!.keyboard.type(insert, { delay: 20 });
      }
    })();
    await Promise.all([
      commentOn(ana!, 'brown fox', 'which fox?'),
      commentOn(ben!, 'lazy dog', 'is it asleep?'),
      typing,
    ]);

    const expected = new Map([
      ['brown fox', 'which fox?'],
      ['lazy dog', 'is it asleep?'],
    ]);
    await until('every browser shows both threads on their words, and the same text', async () => {
      const texts = await Promise.all(pages.map(sdkText));
      if (!texts.every((t) => t === texts[0]) || !texts[0]!.includes('indeed')) return false;
      for (const page of pages) {
        const shown = Object.values(await threadsShown(page));
        if (shown.length !== 2) return false;
        for (const t of shown) if (!expected.has(t.marked) || t.quote !== t.marked) return false;
      }
      return true;
    });
    const final = await sdkText(ana!);
    assert.equal(final, 'Oh, the quick brown fox then jumps over the lazy dog indeed');
    for (const page of pages) {
      for (const t of Object.values(await threadsShown(page))) {
        assert.equal(t.quote, t.marked, 'the panel quotes what the editor marks');
        assert.deepEqual(t.said, [`${t.marked === 'brown fox' ? 'ana' : 'ben'} ${expected.get(t.marked)}`]);
      }
    }
    await ana!.screenshot({ path: join(artifactsDir(), 'e2e-comments-desktop.png') });
    await cho!.screenshot({ path: join(artifactsDir(), 'e2e-comments-phone.png') });

    // A reply and a resolve from the panel reach everyone.
    const foxThread = ben!.locator('#threads .thread', { hasText: 'which fox?' });
    await foxThread.locator('.reply input').fill('the brown one');
    await foxThread.locator('.reply input').press('Enter');
    const dogThread = ana!.locator('#threads .thread', { hasText: 'is it asleep?' });
    await dogThread.locator('button.resolve').click();
    await until('the reply and the resolve reach every browser', async () => {
      for (const page of pages) {
        const fox = page.locator('#threads .thread', { hasText: 'which fox?' });
        const dog = page.locator('#threads .thread', { hasText: 'is it asleep?' });
        if ((await fox.locator('.messages p').count()) !== 2) return false;
        if ((await dog.getAttribute('data-resolved')) !== 'true') return false;
        if ((await page.locator('.cm-comment').allTextContents()).join('') !== 'brown fox') return false;
      }
      return true;
    });

    // Cho deletes the fox's words: the thread is kept, shown as detached, in every browser.
    await cho!.evaluate(() => {
      const view = (window as any).collab.view();
      const from = view.state.doc.toString().indexOf('brown fox');
      view.dispatch({ changes: { from, to: from + 'brown fox'.length } });
    });
    await until('the fox thread shows its text deleted everywhere', async () => {
      for (const page of pages) {
        const fox = page.locator('#threads .thread', { hasText: 'which fox?' });
        if ((await fox.getAttribute('data-detached')) !== 'true') return false;
        if ((await fox.locator('blockquote').textContent()) !== 'text deleted') return false;
      }
      return true;
    });
    await ana!.screenshot({ path: join(artifactsDir(), 'e2e-comments-detached.png') });
  });
});
