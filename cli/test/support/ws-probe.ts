/**
 * A bare WebSocket client for attacking `collab serve`: send any frame, see every frame that comes back with its
 * size in bytes, await the next one matching a predicate.
 */
import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { t: string };

export class WsProbe {
  /** Every frame received, in order, with its size on the wire. */
  readonly received: Array<{ message: Frame; bytes: number }> = [];
  private cursor = 0;
  private wake: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push({ message: JSON.parse(data.toString('utf8')) as Frame, bytes: data.byteLength });
      this.wake?.();
    });
  }

  static async connect(url: string, token?: string): Promise<WsProbe> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const probe = new WsProbe(ws);
    if (token !== undefined) {
      probe.send({ t: 'auth', token, protocol: 1 });
      const welcome = await probe.next((m) => m.t === 'welcome' || m.t === 'error');
      if (welcome.t !== 'welcome') throw new Error(`not welcomed: ${JSON.stringify(welcome)}`);
    }
    return probe;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next frame (after those already taken) matching `pred`; frames passed over are skipped. */
  async next(pred: (m: Frame) => boolean = () => true, timeoutMs = 20_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const { message } = this.received[this.cursor++]!;
        if (pred(message)) return message;
      }
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Frames received from now on only (what came before is no longer looked at). */
  skipReceived(): number {
    this.cursor = this.received.length;
    return this.cursor;
  }

  close(): void {
    this.ws.close();
  }
}
