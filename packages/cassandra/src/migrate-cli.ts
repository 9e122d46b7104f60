/**
 * `migrate-cli`: apply the CQL migrations to a cluster and print what was applied.
 *
 *   tsx --conditions=@collab/source packages/cassandra/src/migrate-cli.ts --contact-points 10.0.0.1:9042,10.0.0.2:9042 \
 *     --local-dc dc1 --keyspace collab --replication-factor 3
 *
 * The keyspace is created with NetworkTopologyStrategy, `--replication-factor` replicas in `--local-dc` (3 in
 * production; 1 on a single dev node). Other data centers are added by ALTER KEYSPACE, deliberately by hand.
 * Flags only, no environment: the caller (npm run migrate, `collab migrate`) decides where values come from.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import cassandra from 'cassandra-driver';

import { migrate } from './migrate.js';

const USAGE = `Usage: migrate-cli [options]

Applies packages/cassandra/migrations/*.cql that the keyspace has not recorded yet, in order.

Options:
  --contact-points <list>       host:port[,host:port...]          (default 127.0.0.1:9042)
  --local-dc <name>             the client's local data center     (default datacenter1)
  --keyspace <name>             keyspace to create and migrate     (default collab)
  --replication-factor <n>      replicas in --local-dc (NetworkTopologyStrategy; 3 in production) (default 1)
  --migrations-dir <path>       another folder of NNNN_name.cql files
  --connect-timeout-ms <ms>     per connection attempt             (default 5000)
  -h, --help                    show this help
`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Runs the CLI; resolves to the process exit code (0 done, 1 failed, 2 bad usage). */
export async function runMigrateCli(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'contact-points': { type: 'string', default: '127.0.0.1:9042' },
        'local-dc': { type: 'string', default: 'datacenter1' },
        keyspace: { type: 'string', default: 'collab' },
        'replication-factor': { type: 'string', default: '1' },
        'migrations-dir': { type: 'string' },
        'connect-timeout-ms': { type: 'string', default: '5000' },
      },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.out(USAGE);
    return 0;
  }
  const contactPoints = values['contact-points']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const factor = Number(values['replication-factor']);
  const connectTimeout = Number(values['connect-timeout-ms']);
  if (contactPoints.length === 0 || !Number.isInteger(factor) || !Number.isInteger(connectTimeout)) {
    io.err(`Invalid --contact-points, --replication-factor or --connect-timeout-ms\n\n${USAGE}`);
    return 2;
  }
  const localDc = values['local-dc'];
  const client = new cassandra.Client({
    contactPoints,
    localDataCenter: localDc,
    socketOptions: { connectTimeout, readTimeout: 60_000 }, // DDL waits for schema agreement: allow it time.
  });
  try {
    const result = await migrate(client, {
      keyspace: values.keyspace,
      replication: { class: 'NetworkTopologyStrategy', dataCenters: { [localDc]: factor } },
      ...(values['migrations-dir'] !== undefined ? { migrationsDir: values['migrations-dir'] } : {}),
    });
    for (const m of result.applied) io.out(`applied ${m.name} (sha256 ${m.checksum.slice(0, 12)})`);
    io.out(
      `keyspace ${values.keyspace}: ${result.applied.length} applied now, ` +
        `${result.alreadyApplied.length} already applied`,
    );
    return 0;
  } catch (err) {
    io.err(`migrate failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await client.shutdown();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runMigrateCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}
