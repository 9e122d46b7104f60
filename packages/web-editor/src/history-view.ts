/**
 * The history slider: 0 … the current version. Moving it away from the end fetches that version from the read
 * API (`GET /v1/docs/:id?version=V`) and shows it read-only; moving it back to the end returns to live editing.
 */
export interface HistoryViewOptions {
  slider: HTMLInputElement;
  label: HTMLElement;
  token: string;
  docId: string;
  currentVersion: () => number;
  show: (text: string, version: number) => void;
  live: () => void;
}

export class HistoryView {
  private viewing: number | undefined;
  /** The version the slider is on, when it is not live; fetched once the request in flight (if any) is done. */
  private wanted: number | undefined;
  private fetching = false;
  /** Counts slider moves: an answer is shown only if the slider has not moved since its request. */
  private moves = 0;

  constructor(private readonly o: HistoryViewOptions) {
    this.onVersion();
    o.slider.addEventListener('input', () => this.select(Number(o.slider.value)));
  }

  /** The live document moved: extend the slider (and keep it at the end unless the user is looking back). */
  onVersion(): void {
    const head = this.o.currentVersion();
    const atEnd = this.viewing === undefined && this.wanted === undefined;
    this.o.slider.max = String(head);
    if (atEnd) {
      this.o.slider.value = String(head);
      this.o.label.textContent = `v${head} (live)`;
    }
  }

  private select(version: number): void {
    const head = this.o.currentVersion();
    if (version >= head) {
      this.moves++;
      this.wanted = undefined;
      if (this.viewing !== undefined) {
        this.viewing = undefined;
        this.o.live();
      }
      this.o.label.textContent = `v${head} (live)`;
      return;
    }
    // The same position again (an input event without a move): already shown, or on its way.
    if (version === this.wanted || (version === this.viewing && this.wanted === undefined)) return;
    this.moves++;
    this.wanted = version;
    this.o.label.textContent = `v${version} (loading…)`;
    if (!this.fetching) void this.fetchWanted();
  }

  /**
   * One request at a time: dragging the slider fires an event per step, and the server limits reads per user
   * (429) and in all (503). Positions passed over while a request was out are skipped; the last one is fetched.
   */
  private async fetchWanted(): Promise<void> {
    this.fetching = true;
    try {
      while (this.wanted !== undefined) {
        const version = this.wanted;
        const moves = this.moves;
        const res = await fetch(`/v1/docs/${encodeURIComponent(this.o.docId)}?version=${version}`, {
          headers: { authorization: `Bearer ${this.o.token}` },
        });
        if (res.status === 429 || res.status === 503) {
          const seconds = Number(res.headers.get('retry-after') ?? '1');
          await new Promise((resolve) => setTimeout(resolve, 1000 * (Number.isFinite(seconds) ? seconds : 1)));
          continue;
        }
        const body = res.ok ? ((await res.json()) as { text: string; version: number }) : undefined;
        if (this.moves !== moves) continue; // the slider moved meanwhile: fetch where it is now (or stay live)
        this.wanted = undefined;
        if (body === undefined) {
          this.o.label.textContent = `v${version}: unavailable (${res.status})`;
          continue;
        }
        this.viewing = version;
        this.o.show(body.text, body.version);
        this.o.label.textContent = `v${body.version} (read-only)`;
      }
    } finally {
      this.fetching = false;
    }
  }
}
