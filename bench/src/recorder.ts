/**
 * What one run measures, fed by the simulated users of either system in the same way:
 *
 * - submit → ack: from a keystroke to the ack of the op that carries it. Both SDKs compose keystrokes typed
 *   while an op is in flight into the next op, so this is the time until the user's keystroke is durable.
 * - submit → seen: from a keystroke to another client of the document integrating the version that holds it
 *   (every other client counts). Versions tie the two: the author registers which keystrokes version v holds
 *   when v is acked; receivers report when they integrated v, in either order.
 * - presence: from a cursor update leaving its sender's socket to each other client of the document receiving
 *   the server's update for it. The server moves positions (so they cannot be matched by value) but never
 *   reorders or, below its throttle (20/s, the typists send ~5/s), drops a session's updates: a receiver's n-th
 *   update from a session answers that session's n-th send after the receiver began listening.
 * - document loads, errors by code, a timeline of ack latency per second (for the plot).
 */
import { Histogram, type HistogramData } from './stats.js';

/**
 * What a user process sends back to the parent: the counts and histograms, never the per-version bookkeeping
 * (every client of a document lives in one process, so acks and deliveries are matched there).
 */
export interface RecorderData {
  ack: HistogramData;
  seen: HistogramData;
  load: HistogramData;
  presence: HistogramData;
  errors: [string, number][];
  timeline: (HistogramData | null)[];
  keystrokes: number;
  acks: number;
  reconnects: number;
}

interface VersionEntry {
  edits?: number[];
  seenAt: number[];
}

export class Recorder {
  readonly ack = new Histogram();
  readonly seen = new Histogram();
  readonly load = new Histogram();
  readonly presence = new Histogram();
  readonly errors = new Map<string, number>();
  /** Per second of the run: ack latencies (for the plot). */
  readonly timeline: Histogram[] = [];
  keystrokes = 0;
  acks = 0;
  reconnects = 0;
  private readonly versions = new Map<string, VersionEntry>();
  /** Per `${docId} ${sessionId}`: when each presence update left the sender. */
  private readonly presenceSends = new Map<string, number[]>();
  /** Tagged sends: `${docId} ${sessionId} ${tag}` → when it left. */
  private readonly taggedSends = new Map<string, number>();
  /** Per receiver and sender: the tag it saw last. */
  private readonly lastTag = new Map<string, string>();
  /** Per receiver, per sender key: how many of the sender's updates it has received. */
  private readonly presenceMatched = new Map<string, Map<string, number>>();
  private started = performance.now();

  /** Seconds of the timeline count from now (call when typing starts). */
  startClock(): void {
    this.started = performance.now();
  }

  keystroke(): number {
    this.keystrokes++;
    return performance.now();
  }

  /** Keystrokes typed at `editTimes` were acked as `version` of `docId`. */
  acked(docId: string, version: number | undefined, editTimes: readonly number[]): void {
    const now = performance.now();
    const second = Math.floor((now - this.started) / 1000);
    const bucket = (this.timeline[second] ??= new Histogram());
    for (const t of editTimes) {
      this.ack.record(now - t);
      bucket.record(now - t);
    }
    if (version === undefined) {
      this.acks++;
      return;
    }
    const entry = this.entry(docId, version);
    // ShareDB calls back once per submit, so one version can be acked in several calls: count the op once.
    if (entry.edits === undefined) {
      this.acks++;
      entry.edits = [];
    }
    entry.edits.push(...editTimes);
    for (const seenAt of entry.seenAt) for (const t of editTimes) this.seen.record(seenAt - t);
  }

  /** Another client integrated `version` of `docId` now. */
  seenBy(docId: string, version: number): void {
    const now = performance.now();
    const entry = this.entry(docId, version);
    entry.seenAt.push(now);
    for (const t of entry.edits ?? []) this.seen.record(now - t);
  }

  /**
   * A presence update for `docId` left the socket of session `sessionId`. With a `tag` (a value unique to this
   * update that the server passes through to the receivers), receipts are matched to their own send exactly;
   * without, in order (see presenceReceived).
   */
  presenceSent(docId: string, sessionId: string, tag?: string): void {
    if (tag !== undefined) {
      this.taggedSends.set(`${docId} ${sessionId} ${tag}`, performance.now());
      return;
    }
    const key = `${docId} ${sessionId}`;
    let sends = this.presenceSends.get(key);
    if (sends === undefined) this.presenceSends.set(key, (sends = []));
    sends.push(performance.now());
  }

  /**
   * `receiver` got the server's update from session `sessionId` in `docId`. Tagged: timed from the send of that
   * very update (the server may have let newer ones replace older ones: those are never seen, so not timed), once
   * per receiver (a heartbeat repeats the latest state). Untagged: the n-th update answers the n-th send, which is
   * right only while nothing is replaced on the way.
   */
  presenceReceived(receiver: string, docId: string, sessionId: string, tag?: string): void {
    const now = performance.now();
    if (tag !== undefined) {
      const who = `${receiver} ${docId} ${sessionId}`;
      if (this.lastTag.get(who) === tag) return;
      this.lastTag.set(who, tag);
      const sentAt = this.taggedSends.get(`${docId} ${sessionId} ${tag}`);
      if (sentAt !== undefined && sentAt <= now) this.presence.record(now - sentAt);
      return;
    }
    const key = `${docId} ${sessionId}`;
    const sends = this.presenceSends.get(key) ?? [];
    let matched = this.presenceMatched.get(receiver);
    if (matched === undefined) this.presenceMatched.set(receiver, (matched = new Map()));
    // First update from this session (or after the receiver reconnected): it answers the latest send.
    const index = matched.get(key) ?? sends.length - 1;
    const sentAt = sends[index];
    if (sentAt !== undefined && sentAt <= now) this.presence.record(now - sentAt);
    matched.set(key, index + 1);
  }

  /** The receiver reconnected: it missed updates, so start matching afresh. */
  presenceReset(receiver: string): void {
    this.presenceMatched.delete(receiver);
  }

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  data(): RecorderData {
    return {
      ack: this.ack.data(),
      seen: this.seen.data(),
      load: this.load.data(),
      presence: this.presence.data(),
      errors: [...this.errors],
      timeline: Array.from(this.timeline, (h) => h?.data() ?? null),
      keystrokes: this.keystrokes,
      acks: this.acks,
      reconnects: this.reconnects,
    };
  }

  /**
   * Adds another recorder's figures (a user process's): histograms bucket by bucket, so percentiles are those of
   * all the samples together; counts and errors summed; the timelines second by second (each process's clock
   * starts at the same "go").
   */
  merge(other: RecorderData): void {
    this.ack.merge(other.ack);
    this.seen.merge(other.seen);
    this.load.merge(other.load);
    this.presence.merge(other.presence);
    for (const [code, n] of other.errors) this.errors.set(code, (this.errors.get(code) ?? 0) + n);
    other.timeline.forEach((h, second) => {
      if (h !== null) (this.timeline[second] ??= new Histogram()).merge(h);
    });
    this.keystrokes += other.keystrokes;
    this.acks += other.acks;
    this.reconnects += other.reconnects;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private entry(docId: string, version: number): VersionEntry {
    const key = `${docId}#${version}`;
    let entry = this.versions.get(key);
    if (entry === undefined) this.versions.set(key, (entry = { seenAt: [] }));
    return entry;
  }
}
