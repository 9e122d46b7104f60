/**
 * PresenceBus in process: a thin handle on a shared InProcessPresenceHub. Each bus stands for one service
 * instance: closing it drops its subscriptions (not the entries it announced, which expire by TTL as they would
 * in Redis when an instance dies) and makes its later calls fail with ERR_CLOSED.
 */
import { CollabError, type PresenceBus, type PresenceEvent, type PresenceState } from '@collab/core';
import { InProcessPresenceHub } from './hub.js';

/** TTLs above this are almost certainly a unit mistake (seconds times 1000 twice); the Redis bus refuses them too. */
const MAX_TTL_MS = 24 * 3600 * 1000;

export interface InProcessPresenceBusOptions {
  /** Buses on the same hub see each other's entries and events. Default: a new hub of their own. */
  hub?: InProcessPresenceHub;
}

export class InProcessPresenceBus implements PresenceBus {
  readonly hub: InProcessPresenceHub;
  private readonly unsubscribes = new Set<() => void>();
  private closed = false;

  constructor(options: InProcessPresenceBusOptions = {}) {
    this.hub = options.hub ?? new InProcessPresenceHub();
  }

  async announce(docId: string, state: PresenceState, ttlMs: number): Promise<void> {
    this.checkOpen();
    checkDocId(docId);
    if (typeof state?.clientId !== 'string' || state.clientId === '' || typeof state.userId !== 'string') {
      throw new CollabError('ERR_INVALID_ARGUMENT', 'a presence state needs a clientId and a userId');
    }
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new CollabError('ERR_INVALID_ARGUMENT', `ttlMs must be in (0, ${MAX_TTL_MS}], got ${ttlMs}`);
    }
    this.hub.announce(docId, state, ttlMs);
  }

  async leave(docId: string, clientId: string): Promise<void> {
    this.checkOpen();
    checkDocId(docId);
    this.hub.leave(docId, clientId);
  }

  async list(docId: string): Promise<PresenceState[]> {
    this.checkOpen();
    checkDocId(docId);
    return this.hub.list(docId);
  }

  async subscribe(docId: string, listener: (event: PresenceEvent) => void): Promise<() => Promise<void>> {
    this.checkOpen();
    checkDocId(docId);
    const unsubscribe = this.hub.subscribe(docId, listener);
    this.unsubscribes.add(unsubscribe);
    return async () => {
      unsubscribe();
      this.unsubscribes.delete(unsubscribe);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new CollabError('ERR_CLOSED', 'the in-process presence bus is closed');
  }
}

function checkDocId(docId: string): void {
  if (typeof docId !== 'string' || docId === '') {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'presence needs a non-empty docId');
  }
}
