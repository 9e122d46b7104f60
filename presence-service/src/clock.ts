/** Time for the router, injected so tests can drive throttling, heartbeats and expiry by hand. */
export interface Clock {
  now(): number;
  /** Run `fn` after `ms`; returns the cancel function. */
  schedule(ms: number, fn: () => void): () => void;
  /** Run `fn` at the end of this turn of the event loop, after its I/O (batching). Default setImmediate. */
  defer?(fn: () => void): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
  defer: (fn) => void setImmediate(fn),
};
