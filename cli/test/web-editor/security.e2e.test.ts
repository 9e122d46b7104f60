/**
 * The page's own defences in a real browser (Debian's Chromium) against the embedded server: a token given in the
 * address is gone from it once the page has loaded (and from the history), the page works under its Content
 * Security Policy with nothing refused — its bundle, its WebSocket, remote selections coloured per user — and no
 * other page may frame it.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { until, usePageServer } from './page-server.js';

/** Every CSP refusal on the page, recorded from its first script on. */
const RECORD_VIOLATIONS = (): void => {
  const w = window as unknown as { cspViolations: string[] };
  w.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
  );
};
const violations = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
const online = (page: Page): Promise<boolean> =>
  page
    .locator('#status')
    .getAttribute('data-state')
    .then((s) => s === 'online');

describe('web editor page security in Chromium (embedded server)', function () {
  this.timeout(120_000);
  const env = usePageServer('collab-e2e-sec-');

  async function newPage(): Promise<Page> {
    const context = await env.newContext();
    await context.addInitScript(RECORD_VIOLATIONS);
    return context.newPage();
  }

  async function devToken(user: string): Promise<string> {
    const res = await fetch(`${env.server.url}/v1/dev/token`, { method: 'POST', body: JSON.stringify({ user }) });
    return ((await res.json()) as { token: string }).token;
  }

  it('takes a token out of the address once loaded, keeps working, and survives a reload', async () => {
    const token = await devToken('tara');
    const docId = `sec-url-${Date.now()}`;
    const page = await newPage();
    const entries = await page.evaluate(() => history.length);
    await page.goto(`${env.server.url}/?doc=${docId}&token=${encodeURIComponent(token)}#top`);
    await until('the page is online', () => online(page));
    assert.equal(page.url(), `${env.server.url}/?doc=${docId}#top`);
    // Replaced, not pushed: the one history entry of the page no longer holds the token.
    assert.equal(await page.evaluate(() => history.length), entries + 1);
    await page.locator('.cm-content').click();
    await page.keyboard.type('typed with the token', { delay: 5 });
    await until('the edit is saved', async () => (await page.locator('#pending').innerText()) === 'all saved');
    await page.reload();
    await until('online again after a reload', () => online(page));
    assert.ok(!page.url().includes('token'), page.url());
    assert.equal(await page.evaluate(() => (window as any).collab?.doc?.text as string), 'typed with the token');
    assert.deepEqual(await violations(page), []);
  });

  it('runs under its Content Security Policy with nothing refused, remote selections included', async () => {
    const docId = `sec-csp-${Date.now()}`;
    const [ana, ben] = [await newPage(), await newPage()];
    for (const [page, name] of [
      [ana, 'ana'],
      [ben, 'ben'],
    ] as const) {
      const response = await page.goto(`${env.server.url}/?doc=${docId}&name=${name}`);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await until(`${name} is online`, () => online(page));
    }
    await ana.locator('.cm-content').click();
    await ana.keyboard.type('select some of this', { delay: 5 });
    await ana.keyboard.press('Shift+Home');
    // Ben sees Ana's selection, coloured through a style attribute.
    await until('ben shows ana’s selection', async () => (await ben.locator('.cm-remote-selection').count()) > 0);
    assert.deepEqual(await violations(ana), []);
    assert.deepEqual(await violations(ben), []);
    // The policy is in force: an injected inline script does not run.
    const ran = await ana.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.body.append(s);
      return (window as unknown as { injected?: boolean }).injected === true;
    });
    assert.equal(ran, false);
    assert.ok((await violations(ana)).some((v) => v.startsWith('script-src')));
  });

  it('refuses to be framed by another page (frame-ancestors, clickjacking)', async () => {
    const page = await newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    // Resolves once the frame has loaded (or been refused).
    await page.setContent(`<iframe id="victim" src="${env.server.url}/?doc=framed&name=eve"></iframe>`);
    const frame = await (await page.$('#victim'))!.contentFrame();
    assert.equal(await frame!.locator('#login, #workspace').count(), 0, 'nothing of the page rendered in the frame');
    await until('the browser says why', async () => messages.some((m) => /frame-ancestors 'none'/.test(m)));
  });
});
