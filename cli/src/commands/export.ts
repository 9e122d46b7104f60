/**
 * `collab export <docId>` — a document's full history from the op log (the source of truth, not the read
 * models), in version order, checked contiguous: NDJSON or an Avro object container file.
 */
import { rmSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadCommandConfig } from '../config/load.js';
import { EXIT, UsageError } from '../errors.js';
import { allOps, documentOps } from '../export/document-log.js';
import { createSink, type ExportFormat } from '../export/sinks.js';
import { startProgress, type Progress } from '../progress.js';
import { openLogSource } from '../storage/sources.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

interface ExportOptions extends CommonOptions {
  all?: boolean;
  format: ExportFormat;
  out?: string;
  progress: boolean;
}

export function registerExport(program: Command): void {
  addCommonOptions(
    program
      .command('export')
      .description(
        "write a document's full history from the op log, or every document's (--all): NDJSON, or an Avro container file",
      ),
  )
    .argument('[docId]', 'the document id (or --all)')
    .option('--all', "every document: each partition from offset 0, each document's versions checked")
    .addOption(
      new Option('--format <format>', 'ndjson (one OpCommitted JSON per line) or avro (object container file)')
        .choices(['ndjson', 'avro'])
        .default('ndjson'),
    )
    .option('--out <file>', 'write here instead of stdout (removed again if the export fails)')
    .option('--no-progress', 'no progress bar on stderr (drawn only on a terminal, when the data goes elsewhere)')
    .addHelpText(
      'after',
      `
Versions are checked to run 1, 2, 3, ... with no gap or repeat; a violation fails the export (exit 1).
With --all, the records come partition by partition: each document's in version order, documents interleaved.
The Avro file embeds the newest schema of schemas/avro/op-committed (v2: the op as plain records in \`components\`,
{kind: retain | insert | delete, count, text}, and in v1's form in \`op\`), for every record, old ones included.
Embedded: COLLAB_DATA_DIR, COLLAB_PARTITIONS. Distributed: KAFKA_BROKERS, COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS.`,
    )
    .action(
      action(async (docId: string | undefined, opts: ExportOptions) => {
        if ((docId === undefined) === (opts.all !== true)) {
          throw new UsageError('give a document id, or --all for every document (not both)');
        }
        const config = loadCommandConfig(process.env, opts, ['kafka']);
        if (opts.printConfig === true) return printConfig(config);
        const source = await openLogSource(config);
        const toTerminal = opts.out === undefined && process.stdout.isTTY === true;
        const sink = createSink(opts.format, opts.out);
        let progress: Progress | undefined;
        let ops = 0;
        const documents = new Set<string>();
        const onProgress = (p: { scanned: number; total: number; ops: number }) => {
          progress ??= startProgress('export', p.total, opts.progress && !toTerminal);
          progress.update(p.scanned, `${p.ops} ops`);
        };
        try {
          const records =
            docId === undefined ? allOps(source.log, onProgress) : documentOps(source.log, docId, onProgress);
          for await (const op of records) {
            await sink.write(op);
            documents.add(op.docId);
            ops++;
          }
          await sink.end();
        } catch (err) {
          sink.destroy();
          if (opts.out !== undefined) rmSync(opts.out, { force: true });
          throw err;
        } finally {
          progress?.stop();
          await source.close();
        }
        const where = opts.out ?? 'stdout';
        console.error(
          docId === undefined
            ? `exported ${ops} op(s) of ${documents.size} document(s) as ${opts.format} to ${where}`
            : `exported ${ops} op(s) of ${docId} (versions 1..${ops}) as ${opts.format} to ${where}`,
        );
        return EXIT.ok;
      }),
    );
}
