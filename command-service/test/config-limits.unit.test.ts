/** The command-service configuration's limits on what one client may cost: defaults, overrides, bad values. */
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

describe('command-service configuration: request cost limits', () => {
  const env = { KAFKA_BROKERS: 'k:9092', COLLAB_JWT_SECRET: 'x'.repeat(32) };

  it('defaults: 4 MiB catch-ups, 10 opens/s, 20 reads/s per principal, 2 replays at once, 64 waiting', () => {
    const config = loadConfig(env);
    assert.equal(config.maxCatchupBytes, 4 * 1024 * 1024);
    assert.equal(config.limits.opensPerSecond, 10);
    assert.deepEqual(config.readApiLimits, { readsPerSecond: 20, concurrentReads: 2, queuedReads: 64 });
  });

  it('takes overrides and lists every bad value at once', () => {
    const config = loadConfig({ ...env, COLLAB_MAX_CATCHUP_BYTES: '65536', COLLAB_READ_CONCURRENCY: '4' });
    assert.equal(config.maxCatchupBytes, 65_536);
    assert.equal(config.readApiLimits.concurrentReads, 4);
    assert.throws(
      () => loadConfig({ ...env, COLLAB_OPENS_PER_SECOND: '0', COLLAB_READ_CONCURRENCY: '1000' }),
      (err: ConfigError) =>
        err.problems.some((p) => p.startsWith('COLLAB_OPENS_PER_SECOND')) &&
        err.problems.some((p) => p.startsWith('COLLAB_READ_CONCURRENCY')),
    );
  });
});
