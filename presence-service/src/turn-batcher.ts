/**
 * Work batched per turn of the event loop (`Clock.defer`, setImmediate by default), never delayed by a timer: the
 * announcements of one turn go out together (one write to Redis with auto-pipelining), then the deliveries queued
 * meanwhile are made, each once. An idle server sends each update at once; a busy one sends fewer, fuller writes
 * instead of falling behind.
 */
import type { Clock } from './clock.js';

export interface TurnWork<A, D> {
  /** Announce one item; resolves once it is queued (not when the bus is done). */
  announce(item: A): Promise<void>;
  /** Make one delivery. */
  deliver(item: D): void;
}

export class TurnBatcher<A, D> {
  private readonly announcements = new Set<A>();
  private readonly deliveries = new Set<D>();
  private scheduled = false;

  constructor(
    private readonly clock: Clock,
    private readonly work: TurnWork<A, D>,
  ) {}

  /** Announce `item` at the end of this turn (in its state by then; once however often it is queued). */
  announce(item: A): void {
    this.announcements.add(item);
    this.schedule();
  }

  /** Deliver `item` at the end of this turn, after the announcements (once however often it is queued). */
  deliver(item: D): void {
    this.deliveries.add(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => this.flush();
    if (this.clock.defer !== undefined) this.clock.defer(flush);
    else setImmediate(flush);
  }

  /** End of the turn: announce what was queued (in one go, so the bus can pipeline), then deliver. */
  private flush(): void {
    this.scheduled = false;
    const announcements = [...this.announcements];
    this.announcements.clear();
    void Promise.all(announcements.map((item) => this.work.announce(item))).then(() => {
      const deliveries = [...this.deliveries];
      this.deliveries.clear();
      for (const item of deliveries) this.work.deliver(item);
    });
  }
}
