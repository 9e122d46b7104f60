/**
 * The stack `npm run infra:up` provisions is the one the services expect with their defaults: the same ops topic,
 * partition count and command bus topics (before, infra made 6 partitions and every service expected 12, so a
 * first-time operator's services refused to start).
 */
import assert from 'node:assert/strict';
import { commandTopicsEnv, opsTopicEnv } from '@collab/env-config';
import { provisionOptionsFromEnv } from '../src/provision.js';

describe('infra provisioning defaults', () => {
  it('are the services’ defaults (@collab/env-config)', () => {
    const infra = provisionOptionsFromEnv({});
    assert.equal(infra.opsPartitions, opsTopicEnv.COLLAB_OPS_PARTITIONS.parse(undefined));
    assert.equal(infra.opsTopic, opsTopicEnv.COLLAB_OPS_TOPIC.parse(undefined));
    assert.equal(infra.commandsTopic, commandTopicsEnv.COLLAB_COMMANDS_TOPIC.parse(undefined));
    assert.equal(infra.repliesTopic, commandTopicsEnv.COLLAB_REPLIES_TOPIC.parse(undefined));
  });

  it('follow the same variables', () => {
    const env = { COLLAB_OPS_PARTITIONS: '3', COLLAB_COMMANDS_TOPIC: 'c', COLLAB_REPLIES_TOPIC: 'r' };
    assert.deepEqual(
      (({ opsPartitions, commandsTopic, repliesTopic }) => ({ opsPartitions, commandsTopic, repliesTopic }))(
        provisionOptionsFromEnv(env),
      ),
      { opsPartitions: 3, commandsTopic: 'c', repliesTopic: 'r' },
    );
  });
});
