/**
 * @collab/codemirror's README example, bundled as it is (packages/codemirror/example/editor.ts, which the README
 * quotes: the test checks they match) and typed into from two Chromium pages against the embedded server: edits
 * both ways, the other person's cursor, undo of one's own edits only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { until, usePageServer } from './page-server.js';

const packageDir = fileURLToPath(new URL('../../../packages/codemirror/', import.meta.url));
const exampleFile = `${packageDir}example/editor.ts`;

/** The example, and a few lines that mount it with what the page's address says. */
async function bundleExample(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import { mountEditor } from ${JSON.stringify(exampleFile)};
        const p = new URLSearchParams(location.search);
        mountEditor(document.getElementById('root'), {
          url: p.get('server'),
          token: p.get('token'),
          docId: p.get('doc'),
          name: p.get('name'),
        }).then((mounted) => { window.example = mounted; });`,
      resolveDir: packageDir,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    write: false,
    conditions: ['@collab/source'],
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

describe('@collab/codemirror: the README example in Chromium (embedded server)', function () {
  this.timeout(120_000);
  // The example app on an origin of its own, as a user's app would be; the server accepts its WebSockets.
  let app: Server | undefined;
  let appOrigin = '';
  let bundle = '';
  before(async () => {
    bundle = await bundleExample();
    app = createServer((req, res) => {
      const js = req.url?.startsWith('/app.js') === true;
      res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
      res.end(js ? bundle : '<!doctype html><div id="root"></div><script type="module" src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => app!.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  after(() => app?.close());
  const env = usePageServer('collab-cm-example-', { env: () => ({ COLLAB_ALLOWED_ORIGINS: appOrigin }) });

  async function openAs(name: string, docId: string): Promise<Page> {
    const res = await fetch(`${env.server.url}/v1/dev/token`, { method: 'POST', body: JSON.stringify({ user: name }) });
    const { token } = (await res.json()) as { token: string };
    const page = await (await env.newContext()).newPage();
    const server = new URL(env.server.url);
    const query = new URLSearchParams({ doc: docId, name, token, server: `ws://${server.host}/v1/ws` });
    await page.goto(`${appOrigin}/?${query}`);
    await until(`${name}'s editor is mounted`, () => page.evaluate(() => 'example' in window));
    return page;
  }

  /** What the view holds (its state's text; the DOM's innerText also counts the cursor widgets' line breaks). */
  const text = (page: Page) =>
    page.evaluate(() =>
      (
        window as unknown as { example: { view: { state: { doc: { toString(): string } } } } }
      ).example.view.state.doc.toString(),
    );
  const sdkText = (page: Page) =>
    page.evaluate(() => (window as unknown as { example: { doc: { text: string } } }).example.doc.text);

  it('the README quotes the example file as it is', () => {
    const readme = readFileSync(`${packageDir}README.md`, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.equal(block, readFileSync(exampleFile, 'utf8'));
  });

  it('two people edit one document: text both ways, the other cursor shown, undo takes back only your own', async () => {
    const docId = `cm-example-${Date.now()}`;
    const [alice, bob] = [await openAs('alice', docId), await openAs('bob', docId)];

    await alice.locator('.cm-content').click();
    await alice.keyboard.type('hello ', { delay: 10 });
    await until('bob sees alice', async () => (await text(bob)).includes('hello '));

    await bob.locator('.cm-content').click();
    await bob.keyboard.press('End');
    await bob.keyboard.type('world', { delay: 10 });
    await until('alice sees bob', async () => (await text(alice)) === 'hello world');
    // Alice's caret, with her name, in Bob's view (her selection reaches him through presence).
    await bob.locator('.cm-remote-cursor[data-name="alice"]').waitFor({ state: 'attached' }); // unstyled here: no size

    // Alice undoes everything of hers (each press one step; the extra presses find nothing left): Bob's word stays.
    for (let i = 0; i < 8; i++) await alice.keyboard.press('Control+z');
    await until('the undo reaches bob', async () => (await text(bob)) === 'world');
    await until('alice shows it too', async () => (await text(alice)) === 'world');
    assert.equal(await sdkText(alice), 'world');
    assert.equal(await sdkText(bob), 'world');
  });
});
