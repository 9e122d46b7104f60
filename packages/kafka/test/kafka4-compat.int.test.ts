/**
 * Kafka 4.x compatibility of this adapter (kafkajs 2.2.4 predates Kafka 4.0, which removed old protocol
 * versions). Starts nothing: run it against a Kafka 4 broker you started, e.g.
 *
 *   KAFKA4=1 KAFKA4_BROKERS=127.0.0.1:29192 npx mocha --no-config --node-option conditions=@collab/source --node-option import=tsx --timeout 120000 \
 *     packages/kafka/test/kafka4-compat.int.test.ts
 *
 * The answer we got is recorded in packages/kafka/README.md ("Kafka 4.x").
 */
import { opLogContract } from '@collab/contracts';
import { kafkaFixture } from './support/kafka-fixture.js';

// A test flag, read here only: this suite targets a broker outside the integration stack on purpose.
const enabled = process.env.KAFKA4 === '1';
const brokers = (process.env.KAFKA4_BROKERS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

if (enabled && brokers.length > 0) {
  opLogContract('kafka 4.x', () => kafkaFixture(brokers));
} else {
  describe('OpLog contract: kafka 4.x', () => {
    it.skip('skipped: set KAFKA4=1 and KAFKA4_BROKERS=host:port (a Kafka 4.x broker) to run it');
  });
}
