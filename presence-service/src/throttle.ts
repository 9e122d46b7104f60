/**
 * The throttle of one session's updates to one document: at most `updatesPerSecond` go out on average, with
 * bursts of BURST (a token bucket, the same as the command-service's limits: a client that keeps to the rate but
 * whose updates arrive bunched by the network or a busy event loop is not held back). Beyond that the newest
 * update waits for its slot, replacing any older one still waiting, and the last one always goes out (a trailing
 * send), so a cursor never rests where the user no longer is.
 */
import { TokenBucket } from '@collab/core';
import type { Clock } from './clock.js';

/**
 * Updates a session may send back to back before the rate applies. The SDK paces its updates at the same rate, so
 * they only bunch up on the way (measured in bench:load with a strict interval instead: 10 % of updates waited for
 * their slot, ~9 ms on average); one in reserve absorbs that without letting a flood through.
 */
export const BURST = 2;

/** What became of an offered update: sent at once, delayed to its slot, or replacing an older one still waiting. */
export type ThrottleOutcome = 'sent' | 'delayed' | 'replaced';

export class UpdateThrottle<U> {
  private readonly bucket: TokenBucket;
  private waiting: U | undefined;
  private cancelTrailing: (() => void) | undefined;

  constructor(
    updatesPerSecond: number,
    private readonly clock: Clock,
    /** Sends an update (called at once or when its slot comes). */
    private readonly release: (update: U) => void,
  ) {
    this.bucket = new TokenBucket(updatesPerSecond, BURST, () => clock.now());
  }

  /** The session's newest update. */
  offer(update: U): ThrottleOutcome {
    if (this.cancelTrailing !== undefined) {
      this.waiting = update; // a send is already scheduled: it will take this newest state
      return 'replaced';
    }
    const wait = this.bucket.wait();
    if (wait <= 0) {
      this.send(update);
      return 'sent';
    }
    this.waiting = update;
    this.cancelTrailing = this.clock.schedule(wait, () => {
      this.cancelTrailing = undefined;
      const waiting = this.waiting!;
      this.waiting = undefined;
      this.send(waiting);
    });
    return 'delayed';
  }

  /** The session left: nothing waiting goes out. */
  cancel(): void {
    this.cancelTrailing?.();
    this.cancelTrailing = undefined;
    this.waiting = undefined;
  }

  private send(update: U): void {
    this.bucket.spend();
    this.release(update);
  }
}
