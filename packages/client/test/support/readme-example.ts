import { readFileSync } from 'node:fs';

const README = new URL('../../README.md', import.meta.url);
const SECTION = '## Testing your app without a server';

/**
 * The complete example of packages/client/README.md's testing section: its one ```js block, as a user would copy
 * it. The README unit test runs it in this repository, the packed-tarball test from an installed copy.
 */
export function readmeExample(): string {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(start));
  if (block === null) throw new Error(`README.md's section "${SECTION}" has no js block`);
  return block[1]!;
}
