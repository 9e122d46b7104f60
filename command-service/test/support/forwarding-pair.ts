/**
 * Two command-service instances on real Kafka in this process, for tests of what differs when a client's
 * instance does not sequence its document: the owner sequences every partition (alone in the commands group),
 * the origin owns nothing and forwards every submission through the real commands topic, and learns outcomes
 * from the real relay and replies topic. A test can hold the origin's forwards back (`hold`), so that the owner
 * commits something else before a forwarded submission reaches it.
 */
import { randomUUID } from 'node:crypto';
import { createKafkaCommandBus } from '@collab/adapter-kafka';
import type { CommandBus } from '@collab/core';
import { bestEffort } from '@collab/core';
import type { MultiTopic } from './processes.js';
import { freshTopics, until } from './processes.js';
import type { RunningService } from './service.js';
import { startService } from './service.js';

export interface ForwardingPair {
  t: MultiTopic;
  owner: RunningService;
  origin: RunningService;
  /** Hold the origin's forwards until the returned function is called; resolves once one is being held. */
  hold(): { held: Promise<void>; release: () => void };
  stop(): Promise<void>;
}

export async function startForwardingPair(partitions = 2): Promise<ForwardingPair> {
  const t = await freshTopics(partitions);
  const buses: CommandBus[] = [];
  const kafkaBus = async (name: string): Promise<CommandBus> => {
    const bus = await createKafkaCommandBus({
      brokers: t.brokers,
      partitionCount: t.partitions,
      clientId: `test-${name}-${randomUUID().slice(0, 6)}`,
      commandsTopic: t.commandsTopic,
      repliesTopic: t.repliesTopic,
    });
    buses.push(bus);
    return bus;
  };
  const owner = await startService(t, {
    ownAllPartitions: false,
    bus: await kafkaBus('owner'),
    consumerGroup: t.group,
  });
  await until(
    'the owner sequences every partition',
    () => owner.service.hub.ownedPartitions.length === partitions || undefined,
  );

  let gate: { open: Promise<void>; onHeld: () => void } | undefined;
  const real = await kafkaBus('origin');
  const forwardOnly: CommandBus = {
    partitionCount: real.partitionCount,
    partitionFor: (docId) => real.partitionFor(docId),
    forward: async (command, headers) => {
      if (gate !== undefined) {
        gate.onHeld();
        await gate.open;
      }
      return real.forward(command, headers);
    },
    // Never a member of the commands group: it sequences nothing.
    consumeCommands: async () => ({ stop: async () => {} }),
    reply: (reply) => real.reply(reply),
    consumeReplies: (origin, handler) => real.consumeReplies(origin, handler),
    close: () => real.close(),
  };
  const origin = await startService(t, { ownAllPartitions: false, bus: forwardOnly, consumerGroup: t.group });
  return {
    t,
    owner,
    origin,
    hold: () => {
      let release!: () => void;
      let onHeld!: () => void;
      const open = new Promise<void>((resolve) => (release = resolve));
      const held = new Promise<void>((resolve) => (onHeld = resolve));
      gate = { open, onHeld };
      return {
        held,
        release: () => {
          gate = undefined;
          release();
        },
      };
    },
    stop: async () => {
      await origin.stop();
      await owner.stop();
      await Promise.all(buses.map((b) => bestEffort(b.close())));
    },
  };
}
