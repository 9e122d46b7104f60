/**
 * Bundles the page with esbuild into dist/page/ (app.js + the static files). `npm run build` runs it once; from
 * source (tsx, development and tests) the server also runs it at startup when the page is missing or older than
 * its sources (well under a second).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** True when this module runs from the compiled build (dist/src/*.js), false under tsx from src/*.ts. */
export const compiled = import.meta.url.includes('/dist/src/');
export const packageDir = fileURLToPath(new URL(compiled ? '../../' : '../', import.meta.url));
export const pageDir = join(packageDir, 'dist', 'page');

export async function buildWebEditor(options: { minify?: boolean } = {}): Promise<void> {
  mkdirSync(pageDir, { recursive: true });
  await build({
    entryPoints: [join(packageDir, 'src', 'app.ts')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    outfile: join(pageDir, 'app.js'),
    minify: options.minify ?? true,
    sourcemap: true,
    // The workspace packages' sources (their exports' source condition), so the page builds without tsc first.
    conditions: ['@collab/source'],
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(join(packageDir, 'public', file), join(pageDir, file));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWebEditor();
  console.log(`built ${pageDir}`);
}
