/**
 * NDJSON: one OpCommitted JSON per line, appended in chunks of about a megabyte. With comment events, each line
 * starts with its `kind` (`{"kind":"op",...}`, `{"kind":"comment",...}`).
 */
import type { LogValue } from '@collab/core';
import { kindOf } from './record-kinds.js';
import { opOnly, type RecordSink } from './sinks.js';
import type { ByteTarget } from './targets.js';

const CHUNK_BYTES = 1 << 20;

export function createNdjsonSink(target: ByteTarget, comments: boolean): RecordSink {
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
    async write(record: LogValue) {
      const value = comments ? { kind: kindOf(record), ...record } : opOnly(record);
      const line = Buffer.from(`${JSON.stringify(value)}\n`);
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
