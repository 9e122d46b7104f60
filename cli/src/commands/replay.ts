/**
 * `collab replay` — rebuild the read models from the op log with a progress bar, then check them against the
 * live ones. Embedded: into a fresh SQLite file (or in place); distributed: into a fresh Cassandra keyspace
 * (projection-service's rebuildKeyspace).
 */
import { join } from 'node:path';
import { describeDifference, rebuildKeyspace, type ReplayProgress } from '@collab/projection-service';
import type { Command } from 'commander';
import { parseFromOffsets } from '../args.js';
import { loadCommandConfig, need, type CommandConfig } from '../config/load.js';
import { ConfigProblems } from '../embedded-config.js';
import { EXIT } from '../errors.js';
import { startProgress, type Progress } from '../progress.js';
import { replayEmbedded } from '../replay/embedded.js';
import { planReplay, type ReplayFlags, type ShadowPlan } from '../replay/plan.js';
import { describeShadowDocument, type ShadowReport } from '../replay/shadow-diff.js';
import { diffKeyspaces } from '../replay/shadow-keyspaces.js';
import { action, addCommonOptions, printConfig, type CommonOptions } from './common.js';

const MAX_PRINTED_DIFFERENCES = 50;

type ReplayOptions = CommonOptions & ReplayFlags & { progress: boolean };

export function registerReplay(program: Command): void {
  addCommonOptions(
    program
      .command('replay')
      .description('rebuild the read models from the op log and compare them with the live ones'),
  )
    .option('--from <offsets>', 'start offset for every partition ("1200"), or per partition ("0=1200,3=5000")')
    .option('--out <file>', 'embedded: the NEW database file to rebuild into (default <data-dir>/replay-<time>.db)')
    .option('--in-place', 'embedded: clear the live read-model tables and rebuild them (stop the server first)')
    .option('--keyspace <name>', 'distributed: the NEW keyspace to rebuild into (created and migrated)')
    .option(
      '--compare-with <live>',
      'compare the result with this database file (embedded; default the live one) or keyspace (distributed; default CASSANDRA_KEYSPACE)',
    )
    .option(
      '--shadow',
      'a shadow replay: the projection of this release into the new keyspace (or --out) beside the live read models, then a report of every document that differs (head version, text hash, missing or extra)',
    )
    .option(
      '--fail-on-diff',
      'with --shadow: exit 3 when the report has a difference (default: exit 0 with the report)',
    )
    .option('--no-progress', 'no progress bar on stderr (drawn only on a terminal)')
    .addHelpText(
      'after',
      `
Exit codes: 0 rebuilt and equal, 1 failed, 2 usage or configuration problem, 3 rebuilt but different.
With --shadow: 0 once the report is printed, 3 if it lists a difference and --fail-on-diff was given.
Embedded: COLLAB_DATA_DIR, COLLAB_PARTITIONS. Distributed: KAFKA_BROKERS, COLLAB_OPS_TOPIC, COLLAB_OPS_PARTITIONS,
CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC, CASSANDRA_KEYSPACE, CASSANDRA_REPLICATION_FACTOR.`,
    )
    .action(
      action(async (opts: ReplayOptions) => {
        const config = loadCommandConfig(process.env, opts, ['kafka', 'cassandra']);
        const planned = planReplay(config.mode, opts, {
          outFile: config.mode === 'embedded' ? join(config.embedded.dataDir, `replay-${stamp()}.db`) : '',
          liveKeyspace: config.mode === 'distributed' ? (config.distributed.cassandra?.keyspace ?? '') : '',
        });
        if ('problems' in planned) throw new ConfigProblems(planned.problems);
        const partitions = partitionCount(config);
        const from = opts.from === undefined ? undefined : parseFromOffsets('--from', opts.from, partitions);
        if (opts.printConfig === true) return printConfig(config);

        let bar: Progress | undefined;
        const started = performance.now();
        const onProgress = ({ done, total, ops }: ReplayProgress) => {
          bar ??= startProgress('replay', Number(total), opts.progress);
          const seconds = Math.max((performance.now() - started) / 1000, 0.001);
          bar.update(Number(done), `${ops} ops, ${Math.round(ops / seconds)} ops/s`);
        };
        try {
          const plan = planned.plan;
          if (plan.mode === 'embedded' && config.mode === 'embedded') {
            const r = await replayEmbedded({
              config: config.embedded,
              target: plan.target,
              ...(plan.compareWith === undefined ? {} : { compareWith: plan.compareWith }),
              ...(from === undefined ? {} : { from }),
              ...(plan.shadow === undefined ? {} : { shadow: true }),
              onProgress,
            });
            bar?.stop();
            console.log(
              `rebuilt ${r.target}: ${r.replay.ops} ops of ${r.replay.documents} documents in ${(r.replay.elapsedMs / 1000).toFixed(1)} s`,
            );
            if (r.comparison.kind === 'shadow' && plan.shadow !== undefined) {
              return shadowReport(`${r.target} (shadow)`, r.comparedWith, r.comparison.shadow, plan.shadow);
            }
            if (r.comparison.kind !== 'rows') throw new Error('internal: a shadow report without --shadow');
            return report(r.comparedWith, r.comparison.rows.documents, r.comparison.rows.differences);
          }
          if (plan.mode !== 'distributed' || config.mode !== 'distributed') throw new Error('internal: mode mismatch');
          const kafka = need(config.distributed.kafka, 'kafka');
          const cassandra = need(config.distributed.cassandra, 'cassandra');
          const result = await rebuildKeyspace({
            kafka: {
              brokers: kafka.brokers,
              topic: kafka.topic,
              partitions: kafka.partitions,
              security: kafka.security,
              ...(kafka.schemaRegistry === undefined ? {} : { schemaRegistry: kafka.schemaRegistry }),
            },
            cassandra: {
              contactPoints: cassandra.contactPoints,
              localDataCenter: cassandra.localDataCenter,
              security: cassandra.security,
              keyspace: plan.keyspace,
              replication: {
                class: 'NetworkTopologyStrategy',
                dataCenters: { [cassandra.localDataCenter]: cassandra.replicationFactor },
              },
            },
            ...(from === undefined ? {} : { from }),
            ...(plan.compareWith === undefined || plan.shadow !== undefined ? {} : { compareWith: plan.compareWith }),
            onProgress,
          });
          bar?.stop();
          const r = result.replay;
          console.log(`rebuilt keyspace ${plan.keyspace}: ${r.ops} ops of ${r.documents} documents`);
          if (plan.shadow !== undefined && plan.compareWith !== undefined) {
            const { report: shadow, migrations } = await diffKeyspaces(cassandra, plan.compareWith, plan.keyspace);
            return shadowReport(
              `keyspace ${plan.keyspace} (shadow, migrations to ${migrations.shadow})`,
              `keyspace ${plan.compareWith} (live, migrations to ${migrations.live})`,
              shadow,
              plan.shadow,
            );
          }
          const c = result.consistency;
          if (c === undefined) return EXIT.ok;
          return report(
            `keyspace ${plan.compareWith ?? ''}`,
            c.documents,
            c.differences.map((d) => ({ docId: '', reason: describeDifference(d) })),
          );
        } finally {
          bar?.stop();
        }
      }),
    );
}

function report(comparedWith: string, documents: number, differences: { docId: string; reason: string }[]): number {
  if (differences.length === 0) {
    console.log(`identical to ${comparedWith}: ${documents} documents`);
    return EXIT.ok;
  }
  console.log(`${differences.length} of ${documents} documents differ from ${comparedWith}:`);
  for (const d of differences.slice(0, MAX_PRINTED_DIFFERENCES)) {
    console.log(`  ${d.docId === '' ? '' : `${d.docId}: `}${d.reason}`);
  }
  if (differences.length > MAX_PRINTED_DIFFERENCES) {
    console.log(`  ... and ${differences.length - MAX_PRINTED_DIFFERENCES} more`);
  }
  return EXIT.differs;
}

/** The shadow replay's report: every document that differs, all of them (a data team diffs it, not a person). */
function shadowReport(shadow: string, live: string, r: ShadowReport, plan: ShadowPlan): number {
  console.log(`shadow ${shadow} beside ${live}`);
  console.log(
    `${r.documents} documents: ${r.same} the same, ${r.differences.length} differ (head version, text hash, missing or extra)`,
  );
  for (const d of r.differences) console.log(`  ${describeShadowDocument(d)}`);
  return r.differences.length > 0 && plan.failOnDiff ? EXIT.differs : EXIT.ok;
}

const partitionCount = (config: CommandConfig): number =>
  config.mode === 'embedded' ? config.embedded.partitions : need(config.distributed.kafka, 'kafka').partitions;

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');
