/**
 * What the SDK clients of a fault run saw, recorded from their own events: every ack (with the time it arrived),
 * every server error and every piece of unsent work taken out of a document. The acked-op checker judges the
 * run from these, and the recovery figures (time from a fault to the next ack) come from the ack times.
 */
import type { ClientDocument, CollabClient } from '@collab/client';
import type { AckedOp, ClientFinal } from './acked-ops.js';

export interface TimedAck extends AckedOp {
  atMs: number;
}

export class AckRecorder {
  readonly acks: TimedAck[] = [];
  readonly errors: string[] = [];
  /** Edits a document had to give back (a rejected op, a reload): refused, known to the client, not lost. */
  unsent = 0;
  private readonly docs: Array<{ client: CollabClient; doc: ClientDocument }> = [];
  private readonly waiters = new Set<() => void>();

  watch(client: CollabClient, doc: ClientDocument): void {
    this.docs.push({ client, doc });
    doc.on('ack', ({ seq, version }) => {
      this.acks.push({ docId: doc.id, clientId: client.clientId, seq, version, atMs: Date.now() });
      for (const wake of this.waiters) wake();
    });
    doc.on('error', (e) => this.errors.push(`${doc.id} ${client.clientId}: ${e.code} ${e.message}`));
    doc.on('unsent', () => this.unsent++);
  }

  /** A client closed for good (a user reloading the page): its acks stay, its documents leave the finals. */
  forget(client: CollabClient): void {
    for (let i = this.docs.length - 1; i >= 0; i--) if (this.docs[i]!.client === client) this.docs.splice(i, 1);
  }

  /** The first ack at or after `sinceMs` that `match` accepts, waited for up to `timeoutMs`. */
  async nextAck(sinceMs: number, timeoutMs: number, match: (a: TimedAck) => boolean = () => true): Promise<TimedAck> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.acks.find((a) => a.atMs >= sinceMs && match(a));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ack within ${timeoutMs} ms (${this.acks.length} so far; errors: ${this.errors.slice(-3)})`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Resolves once `count` more acks than now have arrived. */
  async more(count: number, timeoutMs: number): Promise<void> {
    const target = this.acks.length + count;
    await this.nextAck(0, timeoutMs, () => this.acks.length >= target);
  }

  /**
   * The longest time without any ack in the `windowMs` after `sinceMs` (from `sinceMs` itself on): how long a
   * fault stalled the run. The first ack after a fault alone can mislead: one already in flight lands at once.
   */
  longestPause(sinceMs: number, windowMs: number): number {
    const times = this.acks.map((a) => a.atMs).filter((t) => t >= sinceMs && t <= sinceMs + windowMs);
    let longest = 0;
    let previous = sinceMs;
    for (const t of times.sort((a, b) => a - b)) {
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    return longest;
  }

  pending(): number {
    return this.docs.reduce((n, d) => n + d.doc.pendingCount, 0);
  }

  finals(): ClientFinal[] {
    return this.docs.map(({ client, doc }) => ({
      docId: doc.id,
      clientId: client.clientId,
      version: doc.version,
      text: doc.text,
    }));
  }
}
