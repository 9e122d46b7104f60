/**
 * Reconnect delays: exponential growth with "full jitter" (AWS architecture blog, "Exponential Backoff And
 * Jitter"): the delay is drawn uniformly below the exponential cap, so thousands of clients dropped by one server
 * restart do not all come back in the same instant.
 */
export interface BackoffOptions {
  /** Cap of the first retry's delay. */
  initialMs: number;
  /** The cap never exceeds this. */
  maxMs: number;
  /** Growth of the cap per failed attempt. */
  factor: number;
  /** Fraction of the cap that is random: 1 is full jitter (uniform in [0, cap]), 0 is none (exactly the cap). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 1 };

/** The delay before retry number `attempt` (0 for the first retry). `random` returns values in [0, 1). */
export function backoffDelay(options: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(options.maxMs, options.initialMs * options.factor ** attempt);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(cap * (1 - jitter * random()));
}
