/**
 * The rebuild CLI: `npm run rebuild -w @collab/projection-service -- --help`. Replays the ops topic into a fresh
 * keyspace with a progress bar, prints the throughput, and checks the result against the live keyspace.
 * Endpoints come from the arguments; TLS, SASL and credentials from the same variables the services read
 * (KAFKA_SECURITY_PROTOCOL, CASSANDRA_USERNAME, ...), so secrets stay out of the command line.
 */
import { loadCassandraSecurity, loadKafkaSecurity } from '@collab/env-config';
import { describeDifference } from '../consistency.js';
import { createProgressBar } from '../progress.js';
import { rebuildKeyspace } from '../rebuild.js';
import { parseRebuildArgs, USAGE } from './rebuild-args.js';

const MAX_PRINTED_DIFFERENCES = 50;

async function main(): Promise<number> {
  const parsed = parseRebuildArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    console.error(`${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const kafkaSecurity = loadKafkaSecurity(process.env);
  const cassandraSecurity = loadCassandraSecurity(process.env);
  const problems = [...kafkaSecurity.problems, ...cassandraSecurity.problems];
  if (problems.length > 0) {
    console.error(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return 2;
  }
  const options = {
    ...parsed.options,
    kafka: { ...parsed.options.kafka, security: kafkaSecurity.value },
    cassandra: { ...parsed.options.cassandra, security: cassandraSecurity.value },
  };
  const bar = createProgressBar();
  const started = performance.now();
  console.error(
    `rebuilding ${options.cassandra.keyspace} from ${options.kafka.topic} (${options.kafka.partitions} partitions)`,
  );
  const result = await rebuildKeyspace({
    ...options,
    onRetry: (partition, offset, err) =>
      console.error(`\npartition ${partition}: read failed (${(err as Error).message}); resuming at ${offset}`),
    onProgress: ({ done, total, ops }) => {
      const seconds = (performance.now() - started) / 1000;
      bar.update(Number(done), Number(total), `${ops} ops, ${Math.round(ops / Math.max(seconds, 0.001))} ops/s`);
    },
  });
  const r = result.replay;
  bar.finish(`${r.ops} ops`);
  console.log(
    `rebuilt ${options.cassandra.keyspace}: ${r.ops} ops of ${r.documents} documents in ${(r.elapsedMs / 1000).toFixed(1)} s = ${Math.round(r.opsPerSecond)} ops/s`,
  );
  for (const { partition, from, end } of r.ranges) {
    if (end > from) console.log(`  partition ${partition}: offsets [${from}, ${end})`);
  }
  const c = result.consistency;
  if (c === undefined) return 0;
  if (c.differences.length === 0) {
    console.log(`consistent with ${options.compareWith}: ${c.documents} documents, ${c.ops.rebuilt} ops, heads equal`);
    return 0;
  }
  console.log(
    `${c.differences.length} of ${c.documents} documents differ from ${options.compareWith} (ops: live ${c.ops.live}, rebuilt ${c.ops.rebuilt}):`,
  );
  for (const d of c.differences.slice(0, MAX_PRINTED_DIFFERENCES)) console.log(`  ${describeDifference(d)}`);
  if (c.differences.length > MAX_PRINTED_DIFFERENCES) {
    console.log(`  ... and ${c.differences.length - MAX_PRINTED_DIFFERENCES} more`);
  }
  return 3;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
