/**
 * `collab doc get|history` — read a document through the read side (embedded: the SQLite read models and
 * snapshots of the data folder; distributed: Cassandra and S3), as text or JSON.
 */
import { Option, type Command } from 'commander';
import { parseNonNegativeInt, parsePositiveInt, parseTime } from '../args.js';
import { loadCommandConfig } from '../config/load.js';
import { EXIT } from '../errors.js';
import { historyTable, jsonLine } from '../format.js';
import { openReadSide } from '../storage/sources.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

interface GetOptions extends CommonOptions {
  version?: string;
  at?: string;
  json?: boolean;
}

interface HistoryOptions extends CommonOptions {
  limit: string;
  cursor?: string;
  json?: boolean;
}

const ENV_HELP = `
Embedded: COLLAB_DATA_DIR, COLLAB_PARTITIONS. Distributed (COLLAB_MODE=distributed): CASSANDRA_CONTACT_POINTS,
CASSANDRA_LOCAL_DC, CASSANDRA_KEYSPACE, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET,
S3_PREFIX. The read models follow the log a moment behind: a just-acknowledged edit may take a moment to show.`;

export function registerDoc(program: Command): void {
  const doc = program.command('doc').description("read a document's text at any version or time, or its history");

  addCommonOptions(doc.command('get').description('print the text of a document (now, at a version or at a time)'))
    .argument('<docId>', 'the document id')
    .addOption(new Option('--version <v>', 'the text at exactly this version (0: empty)').conflicts('at'))
    .addOption(
      new Option('--at <time>', 'the text as it was at this time: ms since epoch or ISO-8601 with a zone').conflicts(
        'version',
      ),
    )
    .option('--json', 'print {docId, version, text[, at]} instead of the bare text')
    .addHelpText('after', ENV_HELP)
    .action(
      action(async (docId: string, opts: GetOptions) => {
        const version = opts.version === undefined ? undefined : parseNonNegativeInt('--version', opts.version);
        const at = opts.at === undefined ? undefined : parseTime('--at', opts.at);
        const config = loadCommandConfig(process.env, opts, ['cassandra', 's3']);
        if (opts.printConfig === true) return printConfig(config);
        const side = await openReadSide(config);
        try {
          const result =
            version !== undefined
              ? await side.reader.atVersion(docId, version)
              : at !== undefined
                ? await side.reader.atTime(docId, at)
                : await side.reader.current(docId);
          process.stdout.write(opts.json === true ? jsonLine(result) : result.text);
          if (opts.json !== true && process.stdout.isTTY && !result.text.endsWith('\n')) process.stdout.write('\n');
        } finally {
          await side.close();
        }
        return EXIT.ok;
      }),
    );

  addCommonOptions(doc.command('history').description("list a document's versions, newest first (paginated)"))
    .argument('<docId>', 'the document id')
    .option('--limit <n>', 'versions per page (1-1000)', '50')
    .option('--cursor <c>', 'the page after this cursor (printed by the previous page)')
    .option('--json', 'print the page as JSON: {items: [{version, userId, clientId, timestamp}], next?}')
    .addHelpText('after', ENV_HELP)
    .action(
      action(async (docId: string, opts: HistoryOptions) => {
        const limit = parsePositiveInt('--limit', opts.limit, 1000);
        const config = loadCommandConfig(process.env, opts, ['cassandra', 's3']);
        if (opts.printConfig === true) return printConfig(config);
        const side = await openReadSide(config);
        try {
          const page = await side.reader.history(docId, {
            limit,
            ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
          });
          process.stdout.write(opts.json === true ? jsonLine(page) : historyTable(docId, page));
        } finally {
          await side.close();
        }
        return EXIT.ok;
      }),
    );
}
