/**
 * A real WebSocket (any constructor of the browser's API: the global one, or the `ws` package's) whose frames, in
 * both directions, are held back by a random delay — in order, as TCP keeps them — so clients interleave their
 * edits the way distant users do. `kill()` drops the connection abruptly (`terminate()` where the socket has it,
 * as `ws` does: no closing handshake, what a network loss looks like to the server; else `close()`).
 */
import type { SocketConstructor, SocketLike } from '../socket.js';
import { OPEN } from '../socket.js';

export interface LaggySocket extends SocketLike {
  kill(): void;
}

export function laggySocketClass(
  WebSocket: SocketConstructor,
  random: () => number,
  maxDelayMs: number,
): { LaggySocket: new (url: string) => LaggySocket; sockets: LaggySocket[] } {
  const sockets: LaggySocket[] = [];
  const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  class Laggy implements LaggySocket {
    private readonly socket: SocketLike & { terminate?: () => void };
    private outgoing = Promise.resolve();
    private incoming = Promise.resolve();
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;

    constructor(url: string) {
      this.socket = new WebSocket(url);
      sockets.push(this);
      this.socket.onopen = (event) => this.onopen?.(event);
      this.socket.onmessage = (event: { data: unknown }) => {
        const data = String(event.data);
        const delay = random() * maxDelayMs;
        this.incoming = this.incoming
          .then(() => wait(delay))
          .then(() => {
            if (this.socket.readyState === OPEN) this.onmessage?.({ data });
          });
      };
      this.socket.onclose = (event: { code: number; reason: unknown }) => {
        // Deliver what already arrived first, then the close.
        this.incoming = this.incoming.then(() => this.onclose?.({ code: event.code, reason: String(event.reason) }));
      };
      this.socket.onerror = (event) => this.onerror?.(event);
    }

    get readyState(): number {
      return this.socket.readyState;
    }

    send(data: string): void {
      const delay = random() * maxDelayMs;
      this.outgoing = this.outgoing
        .then(() => wait(delay))
        .then(() => {
          if (this.socket.readyState === OPEN) this.socket.send(data);
        });
    }

    close(code?: number, reason?: string): void {
      this.socket.close(code, reason);
    }

    kill(): void {
      if (this.socket.terminate !== undefined) this.socket.terminate();
      else this.socket.close();
    }
  }

  return { LaggySocket: Laggy, sockets };
}
