/**
 * The presence port: ephemeral, per-document live state — who is here and where their cursor is. Redis in the
 * distributed mode (pub/sub + keys with a TTL), in-process in the embedded one. Nothing here is durable and
 * nothing here touches the op log.
 */

export interface PresenceState {
  clientId: string;
  userId: string;
  /** Opaque to the bus: display name, colour, cursor/selection with the version they refer to, ... */
  data: Record<string, unknown>;
}

export type PresenceEvent =
  { kind: 'update'; docId: string; state: PresenceState } | { kind: 'leave'; docId: string; clientId: string };

export interface PresenceBus {
  /**
   * Store `state` for the client with a time to live, and announce it to every subscriber of the document (on
   * every instance). A client that stops refreshing disappears from `list` after `ttlMs`.
   */
  announce(docId: string, state: PresenceState, ttlMs: number): Promise<void>;
  /** Remove the client's state now and announce that it left. */
  leave(docId: string, clientId: string): Promise<void>;
  /** Everyone currently present in the document (entries whose TTL has not run out). */
  list(docId: string): Promise<PresenceState[]>;
  /** Receive the document's events from every instance; resolves once subscribed. Returns an unsubscribe. */
  subscribe(docId: string, listener: (event: PresenceEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
