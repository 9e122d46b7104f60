/**
 * A child process for the durability tests: appends batches to one partition of the log in `path` forever and
 * prints one line per acknowledged batch — `ack <batch> <first offset> <last offset> <last version>` — only after
 * append() resolved. On ERR_FENCED it prints `fenced <code>` and exits 3. The parent kills it with SIGKILL.
 *
 * Usage: node --conditions=@collab/source --import tsx append-loop.ts <path> <partition> <docId>
 */
import { isCollabError } from '@collab/core';
import { createSqliteStorage } from '../../src/index.js';
import { PARTITION_COUNT } from './durability-settings.js';

const [path, partitionArg, docId] = process.argv.slice(2);
if (path === undefined || partitionArg === undefined || docId === undefined) {
  process.stderr.write('usage: append-loop.ts <path> <partition> <docId>\n');
  process.exit(2);
}
const partition = Number(partitionArg);
const storage = await createSqliteStorage({ path, partitionCount: PARTITION_COUNT });
const writer = await storage.opLog.openWriter(partition);
process.stdout.write('ready\n');

// Batches of 1..20 records with a few hundred bytes each, so a kill often lands inside a multi-record commit.
const padding = 'p'.repeat(300);
let version = 0;
for (let batch = 0; ; batch++) {
  const size = 1 + (batch % 20);
  const records = Array.from({ length: size }, () => {
    version++;
    return {
      value: {
        docId,
        version,
        op: [version - 1, 'x'],
        baseVersion: version - 1,
        clientId: 'child',
        seq: version,
        userId: padding,
        timestamp: Date.now(),
      },
      headers: { batch: String(batch), size: String(size) },
    };
  });
  try {
    const offsets = await writer.append(records);
    process.stdout.write(`ack ${batch} ${offsets[0]} ${offsets[offsets.length - 1]} ${version}\n`);
  } catch (err) {
    if (isCollabError(err, 'ERR_FENCED')) {
      // Exit only once the line is written: stdout to a pipe is asynchronous, and exit() would drop it.
      process.stdout.write(`fenced ${err.code}\n`, () => process.exit(3));
      await new Promise(() => {}); // wait here for the exit above
    }
    throw err;
  }
}
