/**
 * What the server needs to serve the page: the built files (dist/page/), (re)built on first use from source.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildWebEditor, compiled, inputsFile, packageDir, pageDir } from './build.js';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The newest of the page's sources: the files the last build read (a missing one counts as new), and public/. */
function newestSource(): number {
  let newest = Math.max(newestMtime(join(packageDir, 'src')), newestMtime(join(packageDir, 'public')));
  if (!existsSync(inputsFile)) return Infinity;
  for (const path of JSON.parse(readFileSync(inputsFile, 'utf8')) as string[]) {
    newest = Math.max(newest, existsSync(path) ? statSync(path).mtimeMs : Infinity);
  }
  return newest;
}

/**
 * The page's files by URL path ('/' is index.html). From source (tsx), builds them first when missing or older
 * than the sources; from the build (plain node), uses what `npm run build` made and never rebuilds.
 */
export async function loadWebEditorAssets(): Promise<Map<string, Asset>> {
  const built = join(pageDir, 'app.js');
  if (compiled) {
    if (!existsSync(built)) throw new Error(`the web editor's page is not built (${built}): run npm run build`);
  } else {
    if (!existsSync(built) || statSync(built).mtimeMs < newestSource()) await buildWebEditor();
  }
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(pageDir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (type === undefined) continue;
    assets.set(`/${name}`, { contentType: type, body: readFileSync(join(pageDir, name)) });
  }
  const index = assets.get('/index.html');
  if (index !== undefined) assets.set('/', index);
  return assets;
}
