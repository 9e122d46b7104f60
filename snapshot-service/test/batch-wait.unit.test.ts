/**
 * The worker's consumer gathers records for a while before handing them over (ConsumeOptions.batchWaitMs): one
 * broker fetch per batch instead of one per committed transaction. Checked at the port, and through the config.
 */
import assert from 'node:assert/strict';
import type { ConsumeOptions, OpLog } from '@collab/core';
import type { DocumentReader } from '@collab/read-side';
import { loadConfig } from '../src/config.js';
import { createSnapshotWorker, DEFAULT_SNAPSHOT_BATCH_WAIT_MS } from '../src/snapshot-worker.js';

/** An op log that only records how it was asked to consume. */
function recordingLog(): { log: OpLog; asked: ConsumeOptions[] } {
  const asked: ConsumeOptions[] = [];
  const log = {
    partitionCount: 1,
    consume: (options: ConsumeOptions) => {
      asked.push(options);
      return Promise.resolve({ stop: () => Promise.resolve() });
    },
  } as unknown as OpLog;
  return { log, asked };
}

async function consumeOptions(batchWaitMs?: number): Promise<ConsumeOptions> {
  const { log, asked } = recordingLog();
  const worker = createSnapshotWorker({
    log,
    groupId: 'g',
    reader: {} as DocumentReader,
    snapshots: {} as never,
    ...(batchWaitMs === undefined ? {} : { batchWaitMs }),
  });
  await worker.start();
  await worker.stop();
  return asked[0]!;
}

describe('snapshot worker: batch wait', () => {
  it('asks its consumer to gather records for DEFAULT_SNAPSHOT_BATCH_WAIT_MS by default', async () => {
    assert.equal(DEFAULT_SNAPSHOT_BATCH_WAIT_MS, 1000);
    assert.equal((await consumeOptions()).batchWaitMs, 1000);
  });

  it('passes the configured wait, 0 included (each record at once)', async () => {
    assert.equal((await consumeOptions(250)).batchWaitMs, 250);
    assert.equal((await consumeOptions(0)).batchWaitMs, 0);
  });

  it('reads COLLAB_SNAPSHOT_BATCH_WAIT_MS, and refuses a negative one', () => {
    const env = {
      KAFKA_BROKERS: 'localhost:9092',
      CASSANDRA_CONTACT_POINTS: 'localhost:9042',
      S3_ENDPOINT: 'http://localhost:9000',
      S3_BUCKET: 'snapshots',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
    };
    assert.equal(loadConfig(env).kafka.batchWaitMs, 1000);
    assert.equal(loadConfig({ ...env, COLLAB_SNAPSHOT_BATCH_WAIT_MS: '0' }).kafka.batchWaitMs, 0);
    assert.throws(() => loadConfig({ ...env, COLLAB_SNAPSHOT_BATCH_WAIT_MS: '-1' }), /COLLAB_SNAPSHOT_BATCH_WAIT_MS/);
  });
});
