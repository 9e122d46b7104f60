/**
 * `collab export` — ops from the op log (the source of truth, not the read models): of one document, a list of
 * documents or the whole stream (--all), optionally only a time range (--since/--until, on the records' commit
 * timestamps) or an offset range per partition, as NDJSON, an Avro container file or a directory of Parquet files.
 * An export to --out keeps a checkpoint as it goes, and --resume continues it after an interruption.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parsePartitionOffsets, parsePositiveInt, parseTime } from '../args.js';
import { loadCommandConfig } from '../config/load.js';
import { EXIT, UsageError } from '../errors.js';
import { defaultCheckpointPath } from '../export/checkpoint.js';
import { runExport } from '../export/run.js';
import {
  checkRequest,
  defaultCodec,
  EXPORT_CODECS,
  EXPORT_FORMATS,
  type ExportCodec,
  type ExportFormat,
} from '../export/request.js';
import { openExportSource } from '../storage/sources.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

interface ExportOptions extends CommonOptions {
  all?: boolean;
  doc: string[];
  docsFrom?: string;
  since?: string;
  until?: string;
  fromOffsets?: string;
  toOffsets?: string;
  format: ExportFormat;
  codec?: ExportCodec;
  out?: string;
  checkpoint?: string;
  checkpointEvery: string;
  resume?: boolean;
  progress: boolean;
  comments?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The documents asked for: the argument, every --doc, the lines of --docs-from; or 'all'. */
function documentsOf(docId: string | undefined, opts: ExportOptions): string[] | 'all' {
  const docs = [...(docId === undefined ? [] : [docId]), ...opts.doc];
  if (opts.docsFrom !== undefined) {
    const lines = readFileSync(opts.docsFrom, 'utf8').split('\n');
    docs.push(...lines.map((l) => l.trim()).filter((l) => l !== ''));
  }
  const named = docs.length > 0 || opts.docsFrom !== undefined;
  if (named === (opts.all === true)) throw new UsageError('give a document id, or --all for every document (not both)');
  if (opts.all === true) return 'all';
  if (docs.length === 0) throw new UsageError(`--docs-from ${opts.docsFrom}: no document id in it`);
  return [...new Set(docs)];
}

export function registerExport(program: Command): void {
  addCommonOptions(
    program
      .command('export')
      .description(
        'write ops from the op log — of documents, or the whole stream (--all), whole or a time or offset range — as NDJSON, Avro or Parquet',
      ),
  )
    .argument('[docId]', 'a document id (or --doc, --docs-from, --all)')
    .option('--doc <docId>', 'a document to export (repeat it for several)', collect, [])
    .option('--docs-from <file>', 'the documents to export, one id per line')
    .option('--all', 'every document: the whole stream')
    .option(
      '--since <time>',
      'from the first op stamped at or after this time (ISO-8601 with a zone, or ms since the epoch)',
    )
    .option('--until <time>', 'up to the first op stamped at or after this time (excluded)')
    .option('--from-offsets <offsets>', 'start offset per partition: 0:120,3:55 (or 0=120), or one for all')
    .option('--comments', 'comment events too, each record with its kind (op or comment); default: ops only')
    .option('--to-offsets <offsets>', 'stop before this offset per partition: 0:500,3:90, or one for all')
    .addOption(
      new Option('--format <format>', 'ndjson, avro (object container file) or parquet (a directory of part files)')
        .choices([...EXPORT_FORMATS])
        .default('ndjson'),
    )
    .addOption(
      new Option(
        '--codec <codec>',
        'compression: avro null|deflate|snappy (default null), parquet null|snappy (default snappy)',
      ).choices([...EXPORT_CODECS]),
    )
    .option('--out <path>', 'write here (a file; a directory for parquet) instead of stdout, with a checkpoint')
    .option('--checkpoint <file>', 'where the checkpoint is kept (default <out>.checkpoint.json)')
    .option('--checkpoint-every <records>', 'ops between checkpoints', '10000')
    .option('--resume', 'continue the interrupted export of the same command from its checkpoint')
    .option('--no-progress', 'no progress bar on stderr (drawn only on a terminal, when the data goes elsewhere)')
    .addHelpText(
      'after',
      `
Each document's versions are checked to run on by one (from 1 for a whole history); a gap or repeat fails (exit 1).
The records come partition by partition: each document's in version order, documents interleaved as in the log.
A time range reads each partition from the first offset committed at or after --since to the first committed at
or after --until (Kafka's ListOffsets by timestamp, both ends), and no further: consecutive windows cover the log
exactly once, even where clocks put an op's stamp out of order (it goes with the window of its place in the log).
A document's records are found from the read models (the commit time of its version 1), not by reading from 0.
Embedded: COLLAB_DATA_DIR, COLLAB_PARTITIONS. Distributed: KAFKA_BROKERS, COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS,
and CASSANDRA_* for documents.`,
    )
    .action(
      action(async (docId: string | undefined, opts: ExportOptions) => {
        const docs = documentsOf(docId, opts);
        const config = loadCommandConfig(process.env, opts, docs === 'all' ? ['kafka'] : ['kafka', 'cassandra']);
        if (opts.printConfig === true) return printConfig(config);
        const partitions =
          config.mode === 'embedded' ? config.embedded.partitions : config.distributed.kafka!.partitions;
        const format = opts.format;
        const request = checkRequest({
          docs,
          ...(opts.since === undefined ? {} : { since: parseTime('--since', opts.since) }),
          ...(opts.until === undefined ? {} : { until: parseTime('--until', opts.until) }),
          fromOffsets:
            opts.fromOffsets === undefined
              ? new Map()
              : parsePartitionOffsets('--from-offsets', opts.fromOffsets, partitions),
          toOffsets:
            opts.toOffsets === undefined
              ? new Map()
              : parsePartitionOffsets('--to-offsets', opts.toOffsets, partitions),
          format,
          codec: opts.codec ?? defaultCodec(format),
          ...(opts.comments === true ? { comments: true } : {}),
          ...(opts.out === undefined ? {} : { out: opts.out }),
        });
        if (opts.out === undefined && (opts.resume === true || opts.checkpoint !== undefined)) {
          throw new UsageError('--resume and --checkpoint need --out: an export to stdout cannot be resumed');
        }
        const checkpoint = opts.out === undefined ? undefined : (opts.checkpoint ?? defaultCheckpointPath(opts.out));
        const checkpointEvery = parsePositiveInt('--checkpoint-every', opts.checkpointEvery);
        const source = await openExportSource(config, docs !== 'all');
        try {
          const summary = await runExport(source, request, {
            checkpoint,
            checkpointEvery,
            resume: opts.resume === true,
            progress: opts.progress && !(opts.out === undefined && process.stdout.isTTY === true),
          });
          console.error(summary);
        } catch (err) {
          if (checkpoint !== undefined && !(err instanceof UsageError) && existsSync(checkpoint)) {
            console.error(
              `collab export: stopped; ${opts.out} and its checkpoint ${checkpoint} are kept: the same command with --resume continues it`,
            );
          }
          throw err;
        } finally {
          await source.close();
        }
        return EXIT.ok;
      }),
    );
}
