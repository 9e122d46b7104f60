/** The command-service configuration: the limits on what one client may cost, and comment threads and their limits. */
import assert from 'node:assert/strict';
import { DEFAULT_COMMENT_LIMITS } from '@collab/core';
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

describe('command-service configuration: comment threads', () => {
  const env = { KAFKA_BROKERS: 'k:9092', COLLAB_JWT_SECRET: 'x'.repeat(32) };

  it('on by default, with DEFAULT_COMMENT_LIMITS; COLLAB_COMMENTS=false turns them off', () => {
    assert.deepEqual(loadConfig(env).comments, DEFAULT_COMMENT_LIMITS);
    assert.equal(loadConfig({ ...env, COLLAB_COMMENTS: 'false' }).comments, undefined);
  });

  it('takes each limit from its variable, the others keep their defaults', () => {
    assert.deepEqual(loadConfig({ ...env, COLLAB_COMMENT_MAX_MESSAGE_CHARS: '280' }).comments, {
      ...DEFAULT_COMMENT_LIMITS,
      maxCommentLength: 280,
    });
    assert.deepEqual(
      loadConfig({ ...env, COLLAB_COMMENT_MAX_THREADS: '3', COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD: '2' }).comments,
      { ...DEFAULT_COMMENT_LIMITS, maxThreadsPerDocument: 3, maxMessagesPerThread: 2 },
    );
  });

  it('lists every bad value at once: not a number, zero, fractional, too large, and a bad switch', () => {
    assert.throws(
      () =>
        loadConfig({
          ...env,
          COLLAB_COMMENTS: 'yes',
          COLLAB_COMMENT_MAX_MESSAGE_CHARS: 'many',
          COLLAB_COMMENT_MAX_THREADS: '0',
          COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD: '2.5',
        }),
      (err: ConfigError) =>
        [
          'COLLAB_COMMENTS',
          'COLLAB_COMMENT_MAX_MESSAGE_CHARS',
          'COLLAB_COMMENT_MAX_THREADS',
          'COLLAB_COMMENT_MAX_MESSAGES_PER_THREAD',
        ].every((name) => err.problems.some((p) => p.startsWith(name))),
    );
    assert.throws(
      () => loadConfig({ ...env, COLLAB_COMMENT_MAX_THREADS: '1000001' }),
      (err: ConfigError) => err.problems.some((p) => p.startsWith('COLLAB_COMMENT_MAX_THREADS')),
    );
  });
});
