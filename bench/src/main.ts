/**
 * `npm run bench:load -- [options]` (see args.ts): the SLO load benchmark. Runs the workload against our system
 * (the real stack by default: KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, S3_ENDPOINT, REDIS_URL or containers of
 * the harness; or --embedded), then, with --peer, the same workload (same users, documents, seeded keystrokes)
 * against ShareDB, one after the other so they never compete for the CPU. The simulated users run in user
 * processes (--user-processes, whole documents each, see user-process.ts); each system's servers in processes of
 * their own; this process starts them all, times document loads and merges the figures. Writes
 * reports/bench-load-<time>.{json,md,svg,png}. Prints times; asserts none.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { stopStack } from '@collab/infra';
import { parseLoadOptions } from './args.js';
import { writeReport } from './report.js';
import { runWorkload, type RunResult } from './run-workload.js';
import { remoteCollabTarget, startCollabTarget } from './targets/collab.js';
import { startShareDbTarget } from './targets/sharedb.js';
import type { Target } from './target.js';

async function measure(start: () => Promise<Target>, options: ReturnType<typeof parseLoadOptions>): Promise<RunResult> {
  const target = await start();
  try {
    return await runWorkload(target, options, randomUUID().slice(0, 8));
  } finally {
    await target.close();
  }
}

async function main(): Promise<void> {
  const options = parseLoadOptions(process.argv.slice(2));
  const context = {
    cpus: cpus().length,
    loadAverageBefore: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
  };
  console.log(
    `# bench:load — ${options.users} users, ${options.docs} documents (${options.hotDocs} hot with ${options.hotUsers} users), ` +
      `${options.rate} chars/s in bursts, ${options.seconds} s; load average ${context.loadAverageBefore.join(' ')}`,
  );
  const results: RunResult[] = [];
  if (!options.peerOnly)
    results.push(
      await measure(
        () =>
          options.url === undefined
            ? startCollabTarget(options.embedded, options.partitions, options.servers, options.instances)
            : Promise.resolve(remoteCollabTarget(options.url, process.env.BENCH_JWT_SECRET!)),
        options,
      ),
    );
  for (const peer of options.peers) {
    const start =
      peer === 'embedded'
        ? () => startCollabTarget(true, options.partitions, options.servers)
        : () => startShareDbTarget(peer === 'sharedb' ? 'memory' : 'postgres', options.servers);
    results.push(await measure(start, options));
  }
  await writeReport(options, results, {
    ...context,
    loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
  });
  await stopStack();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
