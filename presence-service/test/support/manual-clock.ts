/** A clock that moves only when the test says so: timers run in due order inside `advance`. */
import type { Clock } from '../../src/clock.js';

export class ManualClock implements Clock {
  private time = 1_000_000;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Move time forward, running every timer that falls due (and letting the promises they start settle). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/**
 * Let every queued microtask (bus deliveries, router chains) and deferred flush run: awaiting, not sleeping. A
 * few turns, because the router batches per turn: an update is announced at the end of one turn and its event
 * delivered at the end of the next.
 */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
}
