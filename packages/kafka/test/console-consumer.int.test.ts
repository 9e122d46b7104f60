/**
 * What a data team sees with Kafka's own JVM console consumer (`org.apache.kafka.tools.consumer.ConsoleConsumer`,
 * run from the stack's Kafka image on the host network): a writer fenced with a transaction open leaves an aborted
 * batch in the partition; under `--isolation-level read_committed` it is not there, under read_uncommitted it is
 * (docs/data.md, "Ordering and delivery": read committed, or de-duplicate by (docId, version)).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useStack } from '@collab/infra';
import { encodeOpCommitted } from '@collab/schemas';
import { sendThenFence, textRecord } from './support/fenced-writer.js';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const run = promisify(execFile);

const record = (version: number, text: string) => textRecord('jvm-doc', version, text);

describe("the ops topic read by Kafka's JVM console consumer", function () {
  this.timeout(300_000);
  let brokers: string[];
  let kafkaImage: string;
  let fx: KafkaFixture | undefined;

  before(async () => {
    brokers = (await useStack()).kafka.brokers;
    const printed = (await run('bash', ['infra/images/build.sh', '--print'], { cwd: repoRoot() })).stdout;
    kafkaImage = /^KAFKA_IMAGE=(.+)$/m.exec(printed)?.[1] ?? '';
    assert.ok(kafkaImage !== '', `infra/images/build.sh --print named no KAFKA_IMAGE:\n${printed}`);
  });
  after(async () => {
    await fx?.cleanup();
  });

  /** The values the console consumer prints for the partition, at an isolation level. */
  async function consoleConsumer(isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
    const { stdout } = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'host',
        '--entrypoint',
        'kafka-run-class',
        kafkaImage,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        brokers.join(','),
        '--topic',
        fx!.topic,
        '--partition',
        '0',
        '--offset',
        'earliest',
        '--isolation-level',
        isolation,
        '--timeout-ms',
        '8000',
      ],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    );
    return stdout.split('\n').filter((line) => line.length > 0);
  }

  it('hides the aborted batch of a fenced writer under read_committed, shows it under read_uncommitted', async () => {
    fx = await kafkaFixture(brokers, 1);
    const writer = await fx.log.openWriter(0);
    await writer.append([{ value: record(1, 'committed-one') }, { value: record(2, 'committed-two') }]);
    await writer.close();

    // A writer with a transaction open (its record is in the partition, not yet committed), fenced by a new one.
    await sendThenFence(fx.kafka, fx.topic, 0, 'jvm-doc', encodeOpCommitted(record(3, 'fenced-write')));

    const committed = await consoleConsumer('read_committed');
    const uncommitted = await consoleConsumer('read_uncommitted');
    const show = (lines: string[]) => lines.map((l) => l.replace(/[^\x20-\x7e]/g, '.')).join(' | ');
    assert.equal(committed.filter((l) => l.includes('committed-')).length, 2, show(committed));
    assert.ok(
      !committed.some((l) => l.includes('fenced-write')),
      `read_committed saw the aborted batch: ${show(committed)}`,
    );
    assert.ok(
      uncommitted.some((l) => l.includes('fenced-write')),
      `read_uncommitted missed it: ${show(uncommitted)}`,
    );
  });
});

function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}
