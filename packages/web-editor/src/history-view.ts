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
  private request = 0;

  constructor(private readonly o: HistoryViewOptions) {
    this.onVersion();
    o.slider.addEventListener('input', () => void this.select(Number(o.slider.value)));
  }

  /** The live document moved: extend the slider (and keep it at the end unless the user is looking back). */
  onVersion(): void {
    const head = this.o.currentVersion();
    const atEnd = this.viewing === undefined;
    this.o.slider.max = String(head);
    if (atEnd) {
      this.o.slider.value = String(head);
      this.o.label.textContent = `v${head} (live)`;
    }
  }

  private async select(version: number): Promise<void> {
    const head = this.o.currentVersion();
    if (version >= head) {
      if (this.viewing !== undefined) {
        this.viewing = undefined;
        this.o.live();
      }
      this.o.label.textContent = `v${head} (live)`;
      return;
    }
    const ticket = ++this.request;
    this.o.label.textContent = `v${version} (loading…)`;
    const res = await fetch(`/v1/docs/${encodeURIComponent(this.o.docId)}?version=${version}`, {
      headers: { authorization: `Bearer ${this.o.token}` },
    });
    if (ticket !== this.request) return; // a newer position was chosen meanwhile
    if (!res.ok) {
      this.o.label.textContent = `v${version}: unavailable (${res.status})`;
      return;
    }
    const body = (await res.json()) as { text: string; version: number };
    this.viewing = version;
    this.o.show(body.text, body.version);
    this.o.label.textContent = `v${body.version} (read-only)`;
  }
}
