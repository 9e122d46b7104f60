/** NDJSON: one OpCommitted JSON per line, appended in chunks of about a megabyte. */
import type { OpCommitted } from '@collab/core';
import type { RecordSink } from './sinks.js';
import type { ByteTarget } from './targets.js';

const CHUNK_BYTES = 1 << 20;

export function createNdjsonSink(target: ByteTarget): RecordSink {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunks = pending;
    pending = [];
    pendingBytes = 0;
    await target.append(chunks);
  };
  const commit = async () => {
    await flush();
    await target.sync();
    return { bytes: target.bytes };
  };
  return {
    async write(op: OpCommitted) {
      const line = Buffer.from(`${JSON.stringify(op)}\n`);
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    },
    commit,
    async end() {
      await commit();
      await target.close();
    },
    close: () => target.close(),
  };
}
