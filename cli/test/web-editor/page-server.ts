/**
 * What every browser test of the page needs: the embedded server on a fresh data folder, one Chromium, and the
 * contexts a test opens closed at the end. Registers the suite's mocha hooks; a missing Chromium skips the suite
 * loudly (fails it in CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import pino from 'pino';
import type { EmbeddedServer } from '../../src/embedded/server.js';
import { startEmbedded } from '../../src/embedded/server.js';
import { loadEmbeddedConfig } from '../../src/embedded-config.js';
import { chromiumMissing, launch } from '../support/browser.js';
import { bestEffort } from '@collab/core';

export interface PageServer {
  readonly server: EmbeddedServer;
  /** A new browser context (its own cookies and storage: another person), closed with the suite. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/** `env`: more of the server's environment, read when the suite starts (e.g. an app origin it must accept). */
export function usePageServer(
  dataDirPrefix: string,
  options: { env?: () => Record<string, string | undefined> } = {},
): PageServer {
  let server: EmbeddedServer | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  const contexts: BrowserContext[] = [];

  before(async function () {
    const missing = chromiumMissing();
    if (missing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`${missing} (required in CI)`);
      console.warn(`\n  ⚠️  SKIPPED browser tests: ${missing}\n`);
      this.skip();
    }
    dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
    server = await startEmbedded(
      loadEmbeddedConfig(
        { LOG_LEVEL: 'silent', COLLAB_EDGE_TRANSPORT: process.env.COLLAB_EDGE_TRANSPORT, ...options.env?.() },
        { port: '0', dataDir },
      ),
      pino({ level: 'silent' }),
    );
    browser = await launch();
  });

  after(async () => {
    // Best effort: a context may already be gone with its page; the browser closes the rest.
    for (const c of contexts) await bestEffort(c.close());
    await browser?.close();
    await server?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    get server() {
      if (server === undefined) throw new Error('the embedded server is not started (used outside a test?)');
      return server;
    },
    async newContext(options) {
      if (browser === undefined) throw new Error('the browser is not launched (used outside a test?)');
      const context = await browser.newContext(options);
      contexts.push(context);
      return context;
    },
  };
}

/** Poll `check` until it holds: what a page shows has no event a test could await from outside. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A new browser context showing the editor on `docId` as `name`, once its connection is online. */
export async function openEditorAs(
  env: PageServer,
  name: string,
  docId: string,
  viewport = { width: 1000, height: 700 },
): Promise<Page> {
  const context = await env.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${env.server.url}/?doc=${docId}&name=${name}`);
  await page.locator('.cm-content').waitFor();
  await until(`${name} is online`, async () => (await page.locator('#status').getAttribute('data-state')) === 'online');
  return page;
}
