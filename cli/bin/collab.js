#!/usr/bin/env node
// The `collab` command as npm links it (package.json "bin"): it runs the compiled CLI in ../dist. A launcher
// that is checked in, rather than "bin" naming dist/src/main.js itself, because npm links a bin only when its
// file exists at install time: in this repository `npm ci` runs before `npm run build`, so a bin in dist would
// never be linked (nor made executable) until a second install.
try {
  await import('../dist/src/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/src/main.js')) {
    console.error('collab: the CLI is not compiled yet: run `npm run build` first.');
    process.exit(2);
  }
  throw err;
}
