/** Argument parsing of the rebuild CLI, kept pure so it is unit-tested without servers. */
import { parseArgs } from 'node:util';
import type { RebuildKeyspaceOptions } from '../rebuild.js';

export const USAGE = `Usage: npm run rebuild -w @collab/projection-service -- [options]

Replays the ops topic into a FRESH Cassandra keyspace (created and migrated first), then optionally compares it
with the live keyspace (heads and op counts of every document).

  --brokers <list>            Kafka bootstrap servers, host:port[,host:port]   (required)
  --topic <name>              the ops topic                                    (default collab.ops)
  --partitions <n>            its partition count                              (default 12)
  --contact-points <list>     Cassandra host:port[,host:port]                  (required)
  --local-dc <name>           Cassandra local data center                      (default datacenter1)
  --keyspace <name>           the NEW keyspace to rebuild into; must not exist (required)
  --replication-factor <n>    replicas in the local DC for the new keyspace    (default 3)
  --from <offsets>            where to start: one offset for every partition ("0"), or per partition
                              ("0=1200,3=5000"; others start at 0)             (default the beginning)
  --compare-with <keyspace>   the live keyspace to check the result against
  --batch-size <n>            records per read batch                           (default 10000)
  --concurrency <n>           statements in flight per write                   (default 128)
  -h, --help                  this text

Secured clusters: the services' variables (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_TLS_*, CASSANDRA_USERNAME,
CASSANDRA_PASSWORD, CASSANDRA_TLS, CASSANDRA_TLS_*; docs/operations.md).

Exit codes: 0 rebuilt (and consistent), 1 failed, 2 usage error, 3 rebuilt but differs from the live keyspace.`;

export type ParsedArgs =
  | { kind: 'help' }
  | { kind: 'error'; message: string }
  | { kind: 'run'; options: Omit<RebuildKeyspaceOptions, 'onProgress'> };

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

export function parseRebuildArgs(argv: string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        brokers: { type: 'string' },
        topic: { type: 'string', default: 'collab.ops' },
        partitions: { type: 'string', default: '12' },
        'contact-points': { type: 'string' },
        'local-dc': { type: 'string', default: 'datacenter1' },
        keyspace: { type: 'string' },
        'replication-factor': { type: 'string', default: '3' },
        from: { type: 'string' },
        'compare-with': { type: 'string' },
        'batch-size': { type: 'string', default: '10000' },
        concurrency: { type: 'string', default: '128' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };

  const problems: string[] = [];
  const positive = (name: string, raw: string, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) problems.push(`--${name} must be an integer in [1, ${max}]`);
    return n;
  };
  const brokers = list(values.brokers ?? '');
  if (brokers.length === 0) problems.push('--brokers is required');
  const contactPoints = list(values['contact-points'] ?? '');
  if (contactPoints.length === 0) problems.push('--contact-points is required');
  const keyspace = values.keyspace ?? '';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace)) problems.push('--keyspace is required: [A-Za-z][A-Za-z0-9_]*');
  const partitions = positive('partitions', values.partitions, 10_000);
  const replicationFactor = positive('replication-factor', values['replication-factor'], 32);
  const readBatchSize = positive('batch-size', values['batch-size']);
  const storeWriteConcurrency = positive('concurrency', values.concurrency, 4_096);
  const from = values.from === undefined ? undefined : parseFrom(values.from, partitions, problems);
  const compareWith = values['compare-with'];
  if (compareWith !== undefined && compareWith === keyspace)
    problems.push('--compare-with must differ from --keyspace');
  if (problems.length > 0) return { kind: 'error', message: problems.join('\n') };

  const localDataCenter = values['local-dc'];
  return {
    kind: 'run',
    options: {
      kafka: { brokers, topic: values.topic, partitions },
      cassandra: {
        contactPoints,
        localDataCenter,
        keyspace,
        replication: { class: 'NetworkTopologyStrategy', dataCenters: { [localDataCenter]: replicationFactor } },
      },
      readBatchSize,
      storeWriteConcurrency,
      ...(from === undefined ? {} : { from }),
      ...(compareWith === undefined ? {} : { compareWith }),
    },
  };
}

/** "1200" → every partition from 1200; "0=1200,3=5000" → those partitions, the others from 0. */
function parseFrom(raw: string, partitions: number, problems: string[]): bigint[] | undefined {
  const offset = (s: string): bigint | undefined => (/^\d+$/.test(s) ? BigInt(s) : undefined);
  if (/^\d+$/.test(raw.trim())) return Array.from({ length: partitions }, () => BigInt(raw.trim()));
  const from = Array.from({ length: partitions }, () => 0n);
  for (const part of list(raw)) {
    const [p, o, ...rest] = part.split('=');
    const partition = Number(p);
    const value = offset(o ?? '');
    if (
      rest.length > 0 ||
      !Number.isInteger(partition) ||
      partition < 0 ||
      partition >= partitions ||
      value === undefined
    ) {
      problems.push(`--from: "${part}" is not <partition>=<offset> with a partition in [0, ${partitions})`);
      continue;
    }
    from[partition] = value;
  }
  return problems.length > 0 ? undefined : from;
}
