/**
 * Virtual time for tests: timers run only when the test says so, in time order (FIFO among equal times), so
 * backoff, heartbeats, retries and network delays are all deterministic and nothing sleeps.
 */
import type { Scheduler } from '../scheduler.js';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  private time = 0;
  private order = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: Timer = { at: this.time + Math.max(0, delayMs), order: this.order++, fn, cancelled: false };
    // Keep the list sorted by (at, order); inserting from the back is cheap since most timers are near the end.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers waiting (cancelled ones excluded). */
  get size(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** When the next timer is due, if any. */
  get nextAt(): number | undefined {
    return this.timers.find((t) => !t.cancelled)?.at;
  }

  /** Run the earliest timer, moving the clock to its time. False when there is none. */
  runNext(): boolean {
    for (;;) {
      const timer = this.timers.shift();
      if (timer === undefined) return false;
      if (timer.cancelled) continue;
      this.time = Math.max(this.time, timer.at);
      timer.fn();
      return true;
    }
  }

  /** Run every timer due within `ms` from now, then set the clock to now + ms. */
  advance(ms: number): void {
    const until = this.time + ms;
    while (this.nextAt !== undefined && this.nextAt <= until) this.runNext();
    this.time = until;
  }

  /**
   * Advance `ms` of virtual time in steps of `stepMs`, letting the event loop turn between steps, so that what
   * waits on a promise (an `openDocument`, an async token function) settles as it would in real time.
   */
  async advanceSettling(ms: number, stepMs = 5): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      this.advance(Math.min(stepMs, ms - t));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Run timers until `done()` holds (checked before each), at most `maxSteps`. Returns whether it held. */
  runUntil(done: () => boolean, maxSteps = 1_000_000): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      if (!this.runNext()) return done();
    }
    return done();
  }
}
