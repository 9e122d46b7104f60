/**
 * A consumer-group member in a process of its own, for tests that freeze it (SIGSTOP) past its session: it
 * consumes the ops topic named in its environment and prints one JSON line per callback —
 * {"event":"ready"}, {"event":"assigned","partitions":[…]}, {"event":"revoked","partitions":[…]}.
 */
import { createKafkaOpLog } from '../../src/index.js';

const env = process.env;
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const log = await createKafkaOpLog({
  brokers: env.KAFKA_BROKERS!.split(','),
  topic: env.TOPIC!,
  partitionCount: Number(env.PARTITIONS),
  clientId: 'group-member',
  // The broker's minimum session (6 s): a freeze of a few seconds more loses the membership for certain.
  timeouts: { sessionMs: 6_000, heartbeatMs: 500 },
});
await log.consume({
  groupId: env.GROUP!,
  handler: async () => {},
  onAssigned: (partitions) => print({ event: 'assigned', partitions }),
  onRevoked: (partitions) => print({ event: 'revoked', partitions }),
});
print({ event: 'ready' });
process.once('SIGTERM', () => void log.close().finally(() => process.exit(0)));
