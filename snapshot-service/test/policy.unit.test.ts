import assert from 'node:assert/strict';
import { DEFAULT_POLICY, loadConfig, PartitionProgress, RateMeter, snapshotDue } from '../src/index.js';

describe('snapshot policy', () => {
  const base = { version: 10, snapshotVersion: 0, lastOpAt: 1_000, firstDirtyAt: 1_000, hot: false };

  it('fires on N versions, on idle, for hot documents sooner, and on the dirty-age bound', () => {
    assert.equal(snapshotDue(DEFAULT_POLICY, { ...base, version: 500 }, 1_001), 'versions');
    assert.equal(snapshotDue(DEFAULT_POLICY, { ...base, version: 499 }, 1_001), undefined);
    assert.equal(snapshotDue(DEFAULT_POLICY, { ...base, version: 100, hot: true }, 1_001), 'hot');
    assert.equal(snapshotDue(DEFAULT_POLICY, base, 1_000 + DEFAULT_POLICY.idleMs), 'idle');
    const busy = { ...base, lastOpAt: 400_000 };
    assert.equal(snapshotDue(DEFAULT_POLICY, busy, 400_001), 'age');
    assert.equal(snapshotDue(DEFAULT_POLICY, { ...base, snapshotVersion: 10 }, 1e12), undefined, 'clean: never');
  });

  it('calls a document hot only when its commit times are dense', () => {
    const meter = new RateMeter(10, 1_000);
    for (let i = 0; i < 10; i++) meter.record(i * 200); // 5 per second
    assert.equal(meter.hot, false);
    for (let i = 0; i < 10; i++) meter.record(10_000 + i * 50); // 20 per second
    assert.equal(meter.hot, true);
  });
});

describe('checkpoints', () => {
  it('stop just below the oldest record still needed, and never move back', () => {
    const progress = new PartitionProgress();
    for (let o = 0n; o <= 10n; o++) progress.handled(0, o);
    assert.equal(progress.advance(0, 4n), 3n);
    assert.equal(progress.advance(0, 2n), undefined);
    assert.equal(progress.advance(0, undefined), 10n);
    assert.equal(progress.advance(0, 0n), undefined);
  });
});

describe('config', () => {
  it('reports every problem at once', () => {
    assert.throws(
      () => loadConfig({ SNAPSHOT_EVERY_VERSIONS: '0', S3_ACCESS_KEY_ID: 'x' }),
      (err: Error & { problems?: string[] }) => {
        const text = err.problems?.join('\n') ?? '';
        return (
          /KAFKA_BROKERS/.test(text) && /CASSANDRA_CONTACT_POINTS/.test(text) && /SNAPSHOT_EVERY_VERSIONS/.test(text)
        );
      },
    );
    const config = loadConfig({ KAFKA_BROKERS: 'k:9092', CASSANDRA_CONTACT_POINTS: 'c:9042' });
    assert.equal(config.policy.everyVersions, 500);
    assert.equal(config.policy.idleMs, 30_000);
  });
});
