/**
 * A real WebSocket (the `ws` package) whose frames, in both directions, are held back by a seeded random delay —
 * in order, as TCP keeps them — so clients interleave their edits the way distant users do. `kill()` drops the
 * connection abruptly, like a network loss.
 */
import WebSocket from 'ws';

export interface Laggy {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  kill(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: string }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export function laggySocketClass(
  random: () => number,
  maxDelayMs: number,
): { LaggySocket: new (url: string) => Laggy; sockets: Laggy[] } {
  const sockets: Laggy[] = [];

  class LaggySocket implements Laggy {
    private readonly ws: WebSocket;
    private outgoing = Promise.resolve();
    private incoming = Promise.resolve();
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: string }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;

    constructor(url: string) {
      this.ws = new WebSocket(url);
      sockets.push(this);
      this.ws.on('open', () => this.onopen?.({}));
      this.ws.on('message', (data) => {
        const text = String(data);
        const delay = random() * maxDelayMs;
        this.incoming = this.incoming
          .then(() => wait(delay))
          .then(() => {
            if (this.ws.readyState === WebSocket.OPEN) this.onmessage?.({ data: text });
          });
      });
      this.ws.on('close', (code, reason) => {
        // Deliver what already arrived first, then the close.
        this.incoming = this.incoming.then(() => this.onclose?.({ code, reason: String(reason) }));
      });
      this.ws.on('error', (err) => this.onerror?.(err));
    }

    get readyState(): number {
      return this.ws.readyState;
    }

    send(data: string): void {
      const delay = random() * maxDelayMs;
      this.outgoing = this.outgoing
        .then(() => wait(delay))
        .then(() => {
          if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
        });
    }

    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }

    /** Drop the connection without a closing handshake (what a network loss looks like to the server). */
    kill(): void {
      this.ws.terminate();
    }
  }

  return { LaggySocket, sockets };
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
