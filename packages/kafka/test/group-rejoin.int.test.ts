/**
 * Found by the chaos run (npm run chaos, seed 1): a command-service instance cut off from the brokers lost its
 * group membership, another instance took its partitions (fencing its writers), then it came back into the group
 * under a new member id with the same partitions. Comparing the old and new assignments, the consumer saw no
 * change and called neither onRevoked nor onAssigned: the instance kept its fenced writers and believed it owned
 * the partitions, so nobody sequenced those documents again (their users' edits pending for good, the log's
 * reloads "fenced by a newer owner" in a loop). A member that rejoins under a new id must have everything revoked
 * and assigned again. Deterministic: the member is alone in its group and frozen (SIGSTOP) past its session, so it
 * always rejoins with the same partitions — the case the assignment comparison missed (this test failed then).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { useStack } from '@collab/infra';
import { kafkaFixture, type KafkaFixture } from './support/kafka-fixture.js';

const MEMBER = fileURLToPath(new URL('./support/group-member.ts', import.meta.url));
const PARTITIONS = 3;

interface Event {
  event: 'ready' | 'assigned' | 'revoked';
  partitions?: number[];
}

describe('group consumer: a member that rejoins under a new member id (real process, frozen past its session)', function () {
  this.timeout(120_000);
  let fixture: KafkaFixture;
  let member: ChildProcess | undefined;

  before(async () => {
    fixture = await kafkaFixture((await useStack()).kafka.brokers, PARTITIONS);
  });
  after(async () => {
    member?.kill('SIGCONT');
    member?.kill('SIGKILL');
    await fixture?.cleanup();
  });

  it('has everything revoked and assigned again, even the partitions it gets back', async () => {
    const events: Event[] = [];
    const waiters: Array<() => void> = [];
    const child = spawn(process.execPath, ['--conditions=@collab/source', '--import', 'tsx', MEMBER], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        TOPIC: fixture.topic,
        PARTITIONS: String(PARTITIONS),
        GROUP: `rejoin-${randomUUID().slice(0, 8)}`,
        KAFKA_BROKERS: (await useStack()).kafka.brokers.join(','),
      },
    });
    member = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      events.push(JSON.parse(line) as Event);
      for (const wake of waiters.splice(0)) wake();
    });
    const until = async (what: string, found: () => boolean, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!found()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    };
    const all = [...Array(PARTITIONS).keys()];
    await until('the first assignment', () => events.some((e) => e.event === 'assigned'));
    assert.deepEqual(events.find((e) => e.event === 'assigned')?.partitions, all);

    // Frozen for longer than the 6 s session: the coordinator drops the member.
    const seen = events.length;
    child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    child.kill('SIGCONT');

    await until('callbacks after the rejoin', () => events.slice(seen).some((e) => e.event === 'assigned'), 40_000);
    const after = events.slice(seen).filter((e) => e.event !== 'ready');
    assert.deepEqual(after, [
      { event: 'revoked', partitions: all },
      { event: 'assigned', partitions: all },
    ]);
  });
});
