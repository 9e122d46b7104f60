/**
 * Debian's Chromium driven by playwright-core (no browser download: `npx playwright install` cannot work here).
 * Outside CI a missing Chromium skips the browser tests loudly; in CI it fails them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No --user-data-dir: playwright gives every launch a fresh temporary profile of its own.
    ],
  });
}

/** Where screenshots go (test artifacts): COLLAB_ARTIFACTS_DIR or ./artifacts. */
export function artifactsDir(): string {
  const dir = resolve(process.env.COLLAB_ARTIFACTS_DIR ?? 'artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}
