/**
 * Bundles the page with esbuild into dist/ (app.js + the static files). Fast (well under a second), so the
 * server can run it at startup when dist/ is missing or older than the sources.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = join(packageDir, 'dist');

export async function buildWebEditor(options: { minify?: boolean } = {}): Promise<void> {
  mkdirSync(distDir, { recursive: true });
  await build({
    entryPoints: [join(packageDir, 'src', 'app.ts')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    outfile: join(distDir, 'app.js'),
    minify: options.minify ?? true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(join(packageDir, 'public', file), join(distDir, file));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWebEditor();
  console.log(`built ${distDir}`);
}
