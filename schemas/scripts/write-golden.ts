/**
 * Writes the golden fixtures of the *current* schema version: test/fixtures/<subject>/v<N>/<sample>.hex (the
 * encoded frame) and .json (what today's decoder returns). Run it once when a new schema version is added:
 *
 *   npx tsx --conditions=@collab/source schemas/scripts/write-golden.ts
 *
 * It never overwrites a fixture with different content: committed bytes are the promise that old data still
 * decodes, so changing one is a decision to make by hand, not by a script.
 */
import { isDeepStrictEqual } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { currentSchema, encodeCommentEvent, encodeOpCommitted, type SchemaEntry } from '../src/index.js';
import { COMMENT_EVENT_SAMPLES } from '../test/support/comment-event-samples.js';
import { OP_COMMITTED_SAMPLES } from '../test/support/op-committed-samples.js';

/** Each subject's samples and how today's code encodes them. */
const SUBJECTS: Record<SchemaEntry['subject'], { samples: Record<string, unknown>; encode: (v: never) => Buffer }> = {
  'op-committed': { samples: OP_COMMITTED_SAMPLES, encode: encodeOpCommitted },
  'comment-event': { samples: COMMENT_EVENT_SAMPLES, encode: encodeCommentEvent },
};

/** Hex compares as text; JSON by value, since prettier may have reformatted the committed file. */
const sameContent = (file: string, a: string, b: string): boolean =>
  file.endsWith('.json') ? isDeepStrictEqual(JSON.parse(a), JSON.parse(b)) : a.trim() === b.trim();

let failed = false;
for (const [subject, { samples, encode }] of Object.entries(SUBJECTS)) {
  const entry = currentSchema(subject as SchemaEntry['subject']);
  const dir = new URL(`../test/fixtures/${entry.subject}/v${entry.version}/`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(samples)) {
    const files = {
      [`${name}.hex`]: `${encode(value as never).toString('hex')}\n`,
      [`${name}.json`]: `${JSON.stringify(value, null, 2)}\n`,
    };
    for (const [file, content] of Object.entries(files)) {
      const url = new URL(file, dir);
      if (!existsSync(url)) {
        writeFileSync(url, content);
        console.log(`wrote ${url.pathname}`);
      } else if (!sameContent(file, readFileSync(url, 'utf8'), content)) {
        console.error(`${url.pathname} exists with different content: not overwritten`);
        failed = true;
      }
    }
  }
}
process.exitCode = failed ? 1 : 0;
