/**
 * What one run measures, fed by the simulated users of either system in the same way:
 *
 * - submit → ack: from a keystroke to the ack of the op that carries it. Both SDKs compose keystrokes typed
 *   while an op is in flight into the next op, so this is the time until the user's keystroke is durable.
 * - submit → seen: from a keystroke to another client of the document integrating the version that holds it
 *   (every other client counts). Versions tie the two: the author registers which keystrokes version v holds
 *   when v is acked; receivers report when they integrated v, in either order.
 * - document loads, errors by code, a timeline of ack latency per second (for the plot).
 */
import { Histogram } from './stats.js';

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

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
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
