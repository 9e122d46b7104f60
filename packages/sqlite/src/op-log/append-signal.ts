/**
 * How consumers learn about new records without polling hard: every append made through this storage calls
 * notify() after its transaction commits, waking every waiting consumer at once. Appends made by another process
 * (or another storage) on the same file cannot reach this signal, so consumers also wake on a timer (the fallback
 * poll) — the signal is the fast path, the poll is what makes it correct.
 */
export class AppendSignal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Call `listener` on every notify() until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
