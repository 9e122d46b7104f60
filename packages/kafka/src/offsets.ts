/**
 * End offsets. kafkajs's admin.fetchTopicOffsets sends ListOffsets with isolation level READ_COMMITTED (its
 * default), so what it returns is each partition's *last stable offset* (LSO): the first offset that may still
 * belong to an open transaction. With no transaction open the LSO equals the high watermark. Using the LSO as
 * "the end" is what lets read() terminate: everything below it is decided (committed or aborted), so a
 * read_committed fetch will deliver or skip all of it, whereas records above it can stay invisible until a
 * transaction times out.
 *
 * Note that the high watermark counts control records: a committed transaction of n records moves it by n + 1
 * (the commit marker takes an offset). So offsets are not record counts, and "end" is never "last offset + 1"
 * of what was appended, only greater than it.
 */
import { CollabError, type Offset } from '@collab/core';
import type { Admin } from 'kafkajs';
import { toCollabError, withDeadline } from './errors.js';
import type { ResolvedOptions } from './options.js';

export async function fetchEndOffsets(admin: Admin, options: ResolvedOptions): Promise<Offset[]> {
  const what = `end offsets of ${options.topic}`;
  let offsets: { partition: number; offset: string }[];
  try {
    offsets = await withDeadline(
      admin.fetchTopicOffsets(options.topic),
      options.timeouts.operationMs,
      what,
      options.endpoint,
    );
  } catch (err) {
    throw toCollabError(err, what, options.endpoint);
  }
  const ends: Offset[] = new Array<Offset>(options.partitionCount).fill(0n);
  for (const { partition, offset } of offsets) {
    if (partition < options.partitionCount) ends[partition] = BigInt(offset);
  }
  return ends;
}

/**
 * ListOffsets by timestamp: per partition, the first offset whose entry is stamped at or after `time` (the time
 * index's answer), or the end offset when there is none. The writer stamps each record with its op's commit time
 * (messages.ts); records written before it did carry the producer's send time, a few milliseconds later, and a
 * transaction's commit marker carries the broker's time of the commit: both can only move the answer earlier,
 * never past a record committed at or after `time`. Capped at the end offsets (the last stable offset) that
 * read() stops at.
 */
export async function fetchOffsetsForTime(admin: Admin, options: ResolvedOptions, time: number): Promise<Offset[]> {
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `offsetsForTime needs a time in ms since the epoch, got ${time}`);
  }
  const what = `offsets of ${options.topic} at ${new Date(time).toISOString()}`;
  const ends = await fetchEndOffsets(admin, options);
  let found: { partition: number; offset: string }[];
  try {
    found = await withDeadline(
      admin.fetchTopicOffsetsByTimestamp(options.topic, time),
      options.timeouts.operationMs,
      what,
      options.endpoint,
    );
  } catch (err) {
    throw toCollabError(err, what, options.endpoint);
  }
  const offsets = [...ends];
  for (const { partition, offset } of found) {
    const at = BigInt(offset);
    if (partition < options.partitionCount && at >= 0n && at < ends[partition]!) offsets[partition] = at;
  }
  return offsets;
}
