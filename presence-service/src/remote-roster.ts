/**
 * The other instances' sessions present in one document, as this instance heard of them from the bus, each until
 * its TTL runs out. The bus publishes nothing when an entry expires (a session whose instance died just stops
 * heartbeating), so each router times out the entries it holds itself.
 */
import type { PresenceState } from '@collab/core';
import type { PresenceUser } from '@collab/protocol';
import type { Clock } from './clock.js';
import type { Cursor } from './positions.js';

/** What travels in PresenceState.data. */
export interface PresenceData {
  name: string;
  color: string;
  cursor?: Cursor;
  version: number;
  /** The announcer's clock: lets a late joiner expire an entry listed just before its owner went silent. */
  sentAt: number;
  ttlMs: number;
  /** The announcing router: it delivered the state to its own sessions itself and skips the bus's echo. */
  origin?: string;
}

interface RemoteEntry {
  user: PresenceUser;
  sentAt: number;
  cancelExpiry: () => void;
}

export class RemoteRoster {
  private readonly entries = new Map<string, RemoteEntry>();

  constructor(
    private readonly clock: Clock,
    /** An entry's TTL ran out: it is gone from the roster. */
    private readonly onExpired: (sessionId: string) => void,
  ) {}

  /**
   * Keep (or refresh) an entry and its expiry. Returns the user, or undefined when the state is unreadable
   * (`malformed`) or older than the entry held (a listing that raced an event).
   */
  remember(state: PresenceState): PresenceUser | 'malformed' | undefined {
    const data = readPresenceData(state.data);
    if (data === undefined) return 'malformed';
    const existing = this.entries.get(state.clientId);
    if (existing !== undefined && existing.sentAt > data.sentAt) return undefined; // a listing older than an event
    existing?.cancelExpiry();
    const user: PresenceUser = {
      sessionId: state.clientId,
      userId: state.userId,
      name: data.name,
      color: data.color,
      ...(data.cursor === undefined ? {} : { cursor: data.cursor }),
      version: data.version,
    };
    // Expire from when it was sent (a listed entry may be most of a TTL old already), never later than a TTL
    // from now (clock skew between instances cannot keep a ghost).
    const now = this.clock.now();
    const expiresIn = Math.max(0, Math.min(now, data.sentAt) + data.ttlMs - now);
    const cancelExpiry = this.clock.schedule(expiresIn, () => {
      if (this.entries.get(state.clientId)?.user !== user) return;
      this.entries.delete(state.clientId);
      this.onExpired(state.clientId);
    });
    this.entries.set(state.clientId, { user, sentAt: data.sentAt, cancelExpiry });
    return user;
  }

  /** Drop an entry (its session left); whether there was one. */
  forget(sessionId: string): boolean {
    const existing = this.entries.get(sessionId);
    if (existing === undefined) return false;
    existing.cancelExpiry();
    this.entries.delete(sessionId);
    return true;
  }

  /** Everyone held, in the order first heard of. */
  users(): PresenceUser[] {
    return [...this.entries.values()].map((e) => e.user);
  }

  /** Forget everyone (the document is dropped). */
  clear(): void {
    for (const e of this.entries.values()) e.cancelExpiry();
    this.entries.clear();
  }
}

/** The state's data, if it is what a router announces; undefined for anything else on the bus. */
export function readPresenceData(raw: Record<string, unknown>): PresenceData | undefined {
  const d = raw as Partial<PresenceData>;
  const isPos = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof d.name !== 'string' || typeof d.color !== 'string' || !isPos(d.version)) return undefined;
  if (typeof d.sentAt !== 'number' || typeof d.ttlMs !== 'number' || !(d.ttlMs > 0)) return undefined;
  if (d.cursor !== undefined && !(isPos(d.cursor.anchor) && isPos(d.cursor.head))) return undefined;
  if (d.origin !== undefined && typeof d.origin !== 'string') return undefined;
  return d as PresenceData;
}
