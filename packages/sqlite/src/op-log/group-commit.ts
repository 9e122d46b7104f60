/**
 * Group commit: the appends made during one turn of the event loop, by any partition's writer, go to the file in
 * one IMMEDIATE transaction — one fsync (synchronous=FULL) instead of one each. better-sqlite3 is synchronous, so
 * every commit blocks the event loop for its fsync: in bench:load --embedded with 1,000 users, appends one
 * transaction each held the loop ~40 % of the time.
 *
 * Each append keeps its guarantees: it runs in a savepoint of its own (a nested better-sqlite3 transaction), so
 * it is still all-or-none, and a fenced one (its writer's epoch is no longer the partition's) rolls back to its
 * savepoint and is rejected alone with ERR_FENCED while the others commit. Any other failure rolls the whole
 * transaction back and rejects every append in it, none of them written. An append resolves only after the
 * commit, so an acknowledged record is on disk as before.
 */
import { CollabError, isCollabError, type Offset } from '@collab/core';
import { run, type LogContext } from './context.js';
import type { encodeRecord } from './records.js';

type Encoded = ReturnType<typeof encodeRecord>;

interface Waiting {
  partition: number;
  epoch: number;
  records: Encoded[];
  resolve: (offsets: Offset[]) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly ctx: LogContext) {}

  /** Appends `records` to `partition` for the writer of `epoch`, in the next group; resolves with their offsets. */
  append(partition: number, epoch: number, records: Encoded[]): Promise<Offset[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ partition, epoch, records, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    let outcomes: (Offset[] | CollabError)[];
    try {
      outcomes = run(this.ctx, `append ${group.length} batch(es)`, () =>
        this.ctx.db.transaction(() => group.map((w) => this.one(w))).immediate(),
      );
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    // After the commit (and its fsync): consumers in this process see the records as soon as they wake.
    this.ctx.signal.notify();
    group.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof CollabError) w.reject(outcome);
      else w.resolve(outcome);
    });
  }

  /** One append, in a savepoint: its offsets, or ERR_FENCED with nothing of it written. */
  private one(w: Waiting): Offset[] | CollabError {
    try {
      return this.ctx.db.transaction((): Offset[] => {
        const reserved = this.ctx.sql.reserveOffsets.get(BigInt(w.records.length), w.partition, w.epoch);
        if (reserved === undefined) {
          throw new CollabError(
            'ERR_FENCED',
            `partition ${w.partition} has a newer writer: this one (epoch ${w.epoch}) is fenced`,
            { retriable: false },
          );
        }
        const first = BigInt(reserved.next_offset) - BigInt(w.records.length);
        return w.records.map((record, i) => {
          const offset = first + BigInt(i);
          this.ctx.sql.insertRecord.run(
            w.partition,
            offset,
            record.docId,
            record.version,
            record.value,
            record.headers,
          );
          return offset;
        });
      })();
    } catch (err) {
      if (isCollabError(err, 'ERR_FENCED')) return err;
      throw err;
    }
  }
}
