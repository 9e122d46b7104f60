/** Time for the router, injected so tests can drive throttling, heartbeats and expiry by hand. */
export interface Clock {
  now(): number;
  /** Run `fn` after `ms`; returns the cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};
