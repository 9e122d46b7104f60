/**
 * A typing-like op stream for one user: bursts of keystrokes at `rate` chars/s (±30% jitter) separated by
 * pauses, mostly inserts at a cursor that moves forward, some backspaces, now and then a jump elsewhere.
 * Seeded per user, so the same run is the same keystrokes for both systems.
 */
import { rng } from './stats.js';
import type { SimDocument } from './target.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz     ,.\n';

export interface TypistStats {
  inserts: number;
  deletes: number;
}

export class Typist {
  private readonly random: () => number;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private burstLeft = 0;
  private stopped = false;
  readonly stats: TypistStats = { inserts: 0, deletes: 0 };

  constructor(
    private readonly doc: SimDocument,
    private readonly rate: number,
    seed: number,
  ) {
    this.random = rng(seed);
  }

  start(): void {
    // A random first delay, so thousands of users do not type in lockstep.
    this.schedule(this.random() * 2000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    if (this.burstLeft <= 0) {
      // A burst of 5–40 keystrokes, then a pause of 0.5–4 s.
      this.burstLeft = 5 + Math.floor(this.random() * 36);
      return this.schedule(500 + this.random() * 3500);
    }
    this.burstLeft--;
    this.keystroke();
    this.schedule((1000 / this.rate) * (0.7 + 0.6 * this.random()));
  }

  private keystroke(): void {
    const doc = this.doc;
    if (doc.pending >= 200) return; // a stuck connection: a person would stop and look, so do we
    const length = doc.length;
    if (this.random() < 0.05 || this.cursor > length) this.cursor = Math.floor(this.random() * (length + 1));
    try {
      if (this.random() < 0.15 && this.cursor > 0) {
        doc.delete(this.cursor - 1, 1);
        this.cursor--;
        this.stats.deletes++;
      } else {
        doc.insert(this.cursor, LETTERS[Math.floor(this.random() * LETTERS.length)]!);
        this.cursor++;
        this.stats.inserts++;
      }
      doc.setCursor?.(this.cursor);
    } catch {
      // A range error after a remote edit shortened the text under our cursor: move it and go on.
      this.cursor = 0;
    }
  }
}
