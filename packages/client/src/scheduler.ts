/**
 * Time, injected: the client's backoff, heartbeat and retry timers all go through a `Scheduler`, so tests drive
 * them by hand (no sleeps) and a host can plug in its own timer wheel.
 */
export interface Scheduler {
  /** Milliseconds on a monotonic-enough clock. */
  now(): number;
  /** Run `fn` after `delayMs`; returns a function that cancels it (a no-op once it ran). */
  schedule(delayMs: number, fn: () => void): () => void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const handle = setTimeout(fn, delayMs);
    return () => clearTimeout(handle);
  },
};
