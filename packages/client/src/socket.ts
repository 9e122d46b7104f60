/**
 * The part of the WebSocket API the client uses. The browser's `WebSocket` and the `ws` package both fit; the
 * constructor is injected (default: the global), so the SDK itself imports no Node module.
 */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any` parameters so that the DOM's handler types (MessageEvent, CloseEvent, ...) are assignable here.
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}

export type SocketConstructor = new (url: string) => SocketLike;

/** `WebSocket.OPEN`. */
export const OPEN = 1;
