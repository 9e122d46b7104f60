/**
 * Bundles the page with esbuild into dist/page/ (app.js + the static files). `npm run build` runs it once; from
 * source (tsx, development and tests) the server also runs it at startup when the page is missing or older than
 * its sources (well under a second).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** True when this module runs from the compiled build (dist/src/*.js), false under tsx from src/*.ts. */
export const compiled = import.meta.url.includes('/dist/src/');
export const packageDir = fileURLToPath(new URL(compiled ? '../../' : '../', import.meta.url));
export const pageDir = join(packageDir, 'dist', 'page');

/**
 * The workspace sources the last build read (esbuild's metafile, node_modules left out): the page is stale when
 * any of them is newer than it — the page's own, and the SDK's and the CodeMirror binding's that it bundles.
 */
export const inputsFile = join(pageDir, 'inputs.json');

export async function buildWebEditor(options: { minify?: boolean } = {}): Promise<void> {
  mkdirSync(pageDir, { recursive: true });
  const result = await build({
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
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((path) => !path.includes('node_modules/'))
    .map((path) => resolve(path));
  writeFileSync(inputsFile, JSON.stringify(inputs, null, 1));
  for (const file of ['index.html', 'app.css']) copyFileSync(join(packageDir, 'public', file), join(pageDir, file));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWebEditor();
  console.log(`built ${pageDir}`);
}
