/**
 * `collab media gc [--dry-run] [--grace-hours N]` — delete uploaded images that no version of any document
 * references (docs/operations.md, "Media"). Embedded: the data folder's media and SQLite log; distributed: the
 * S3 media bucket and the Kafka ops topic.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { MediaStore } from '@collab/core';
import { parseNonNegativeInt } from '../args.js';
import { loadCommandConfig, need, type CommandConfig } from '../config/load.js';
import { EXIT } from '../errors.js';
import { collectMediaGarbage } from '../media/gc.js';
import { createFolderMediaStore, MEDIA_FOLDER } from '../storage/media-folder.js';
import { openS3Media } from '../storage/distributed.js';
import { openLogSource } from '../storage/sources.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

interface GcOptions extends CommonOptions {
  dryRun?: boolean;
  graceHours: string;
}

const ENV_HELP = `
Embedded: COLLAB_DATA_DIR (media in <data dir>/media). Distributed (COLLAB_MODE=distributed): KAFKA_BROKERS,
COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
COLLAB_MEDIA_BUCKET (default S3_BUCKET), S3_PREFIX.`;

function openMediaStore(config: CommandConfig): MediaStore {
  return config.mode === 'embedded'
    ? createFolderMediaStore(join(config.embedded.dataDir, MEDIA_FOLDER))
    : openS3Media(need(config.distributed.s3, 's3'));
}

export function registerMedia(program: Command): void {
  const media = program.command('media').description('operate on uploaded images');
  addCommonOptions(
    media
      .command('gc')
      .description('delete images that no version of any document references (kept: referenced or recent ones)'),
  )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--grace-hours <n>', 'keep unreferenced images uploaded within this many hours (0: none)', '24')
    .addHelpText('after', ENV_HELP)
    .action(
      action(async (opts: GcOptions) => {
        const graceHours = parseNonNegativeInt('--grace-hours', opts.graceHours);
        const config = loadCommandConfig(process.env, opts, ['kafka', 's3']);
        if (opts.printConfig === true) return printConfig(config);
        const store = openMediaStore(config);
        const source = await openLogSource(config);
        try {
          const report = await collectMediaGarbage(store, source.log, {
            graceMs: graceHours * 3_600_000,
            dryRun: opts.dryRun === true,
          });
          const verb = opts.dryRun === true ? 'would delete' : 'deleted';
          for (const id of report.unreferenced) console.log(`${verb} ${id}`);
          console.log(
            `${report.blobs} image(s): ${report.referenced} referenced, ${report.recent} unreferenced but uploaded ` +
              `within ${graceHours} h, ${report.unreferenced.length} ${verb}`,
          );
        } finally {
          await source.close();
          await store.close();
        }
        return EXIT.ok;
      }),
    );
}
