/**
 * The event log port: the ops topic. Kafka in the distributed mode, SQLite in the embedded one.
 *
 * Records are grouped in partitions by document id (all of a document's ops are in one partition, in version
 * order). Exactly one writer may append to a partition at a time: opening a writer fences every earlier writer of
 * that partition, whose later appends fail with ERR_FENCED and append nothing. This is how the log enforces "one
 * writer per document" even when a stale instance still believes it owns the partition.
 */
import type { LogValue } from '../records.js';

/** Offsets are bigints: Kafka's are 64-bit. */
export type Offset = bigint;

export interface LogRecord {
  partition: number;
  offset: Offset;
  /** An op, or a comment event of the same document (records.ts): consumers of ops skip the events. */
  value: LogValue;
  /** Header values such as W3C `traceparent`, carried end to end for tracing. */
  headers: Record<string, string>;
}

export interface AppendInput {
  value: LogValue;
  headers?: Record<string, string>;
}

export interface PartitionWriter {
  readonly partition: number;
  /**
   * Append records atomically (all or none) and resolve once they are durable (Kafka: acks=all, committed
   * transaction). Every record's document must map to this writer's partition. Rejects with ERR_FENCED when a
   * newer writer owns the partition, ERR_UNAVAILABLE / ERR_TIMEOUT (retriable) when the log cannot be reached.
   * Returns the offsets given to the records, in order.
   */
  append(records: readonly AppendInput[]): Promise<Offset[]>;
  close(): Promise<void>;
}

/** What a consumer's handler gets for each batch: records of one partition, in offset order. */
export interface ConsumerContext {
  readonly partition: number;
  /**
   * Mark everything up to and including `offset` as done. Call it only once the effect of those records is
   * durable; the adapter commits offsets on its own schedule, never past a checkpoint. After a crash or a
   * rebalance, consumption resumes after the last committed checkpoint, so effects must be idempotent.
   */
  checkpoint(offset: Offset): void;
}

export type BatchHandler = (records: readonly LogRecord[], context: ConsumerContext) => Promise<void>;

export interface ConsumeOptions {
  /** Consumers with the same group share the partitions; each partition goes to one member. */
  groupId: string;
  handler: BatchHandler;
  /** For a group with no committed offsets: start at the beginning (true) or only take new records. */
  fromBeginning?: boolean;
  /** Called when this member is given or loses partitions (the command-service takes ownership here). */
  onAssigned?: (partitions: number[]) => Promise<void> | void;
  onRevoked?: (partitions: number[]) => Promise<void> | void;
  /**
   * How long a fetch may wait for more records before handing over what it has (ms). Unset: hand records over as
   * soon as there are any (lowest latency: the relay of remote ops). Set: bigger batches and fewer writes per
   * record, for consumers whose cost is per batch (the projection), at the price of that much lag. Adapters
   * without fetches (the embedded one) may ignore it.
   */
  batchWaitMs?: number;
  /**
   * false: never commit this group's offsets, so it starts at the end each time (with `fromBeginning` false)
   * and checkpoints cost nothing. For a consumer whose work does not outlive its process — the command-service's
   * relay, one group per instance, which otherwise wrote an offset commit for every transaction it fetched.
   * Default true.
   */
  commitOffsets?: boolean;
}

export interface Consumer {
  /** Stop consuming, committing the last checkpoints. */
  stop(): Promise<void>;
}

export interface OpLog {
  readonly partitionCount: number;
  /** The partition a document's records go to. Stable for a given partition count. */
  partitionFor(docId: string): number;
  /** Become the only writer of `partition`, fencing earlier ones. */
  openWriter(partition: number): Promise<PartitionWriter>;
  /** Read a partition from `from` (inclusive) up to its end at call time, in batches. */
  read(partition: number, from: Offset, options?: { batchSize?: number }): AsyncIterable<LogRecord[]>;
  /** The offset the next record appended to each partition will get (the "high watermark"). */
  endOffsets(): Promise<Offset[]>;
  /**
   * For each partition, an offset before which no record was committed at or after `time` (ms since the epoch, the
   * value's `timestamp`): a reader from it misses no record committed at or after `time`. It is the first entry of
   * the log stamped at or after `time` (Kafka's ListOffsets by timestamp), or the end offset when there is none.
   * Records after it may carry earlier stamps (on Kafka a transaction's commit marker, stamped by the broker's
   * clock, is such an entry; writers' clocks differ), so a reader keeps records by their own timestamp.
   */
  offsetsForTime(time: number): Promise<Offset[]>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  close(): Promise<void>;
}
