/**
 * A token bucket: `rate` tokens per second, holding at most `burst`. Typing comes in bursts, so the burst lets a
 * fast typist through while a flood is cut to the sustained rate. The clock is injected (tests use a virtual one).
 *
 * Two ways to use it: `take()` refuses and says how long to wait (the command-service's limits: the client is
 * told to retry); `wait()` then `spend()` lets the caller hold the request and send it when its slot comes (the
 * presence throttle: the newest cursor waits, and goes out late rather than never).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Take one token; returns 0 when granted, or how many ms until one will be available. */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** How many ms until a token is available (0: one is available now). Takes nothing; not rounded. */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
  }

  /**
   * Spend a token whose slot has come (after `wait()`), even if the clock's rounding leaves the bucket a hair
   * short of one: the debt is paid back by the refill.
   */
  spend(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** Refilled to its burst: forgetting this bucket and starting a new one changes nothing. */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }
}

/**
 * One token bucket per key (a principal, across all its connections and requests). Buckets that have refilled
 * are forgotten once there are many, so memory follows the keys active in the last `burst / rate` seconds.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly sweepAbove = 10_000,
  ) {}

  /** Take one token of `key`'s bucket; 0 when granted, or how many ms until one will be available. */
  take(key: string): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAbove) this.sweep();
      bucket = new TokenBucket(this.rate, this.burst, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
  }
}
