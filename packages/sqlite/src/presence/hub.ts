/**
 * The shared state behind in-process presence buses: what Redis is to the distributed mode. Every bus made on one
 * hub sees the same entries and the same events, so several "instances" in one process (or the contract suite's
 * two buses) behave like several service instances on one Redis.
 *
 * - Entries are stored as JSON text, as Redis stores them: what a listener or list() gets is a fresh copy, never
 *   an object another caller can mutate, and data that cannot round-trip through JSON fails at announce().
 * - Time comes from the injected clock. An entry is visible while now < expiresAt; list() filters and prunes on
 *   every read, so an expired entry is never shown even if nothing else happens to its document (Redis's TTL keys
 *   behave the same). Expiry emits no event, as with Redis: clients notice a silent peer through list().
 * - Events are delivered on a microtask, in publish order: announce() returns before any listener runs (as over
 *   Redis pub/sub), and a listener that throws cannot fail the announcer or starve the other listeners.
 */
import type { PresenceEvent, PresenceState } from '@collab/core';
import { silentLogger, type Logger } from '@collab/core';

export type PresenceListener = (event: PresenceEvent) => void;

export interface PresenceHubOptions {
  /** Milliseconds since the epoch; inject a fake clock in tests. Default Date.now. */
  now?: () => number;
  logger?: Logger;
}

interface Entry {
  json: string;
  expiresAt: number;
}

/** How often (clock time) a write sweeps expired entries of every document, so idle documents do not pile up. */
const SWEEP_EVERY_MS = 60_000;

export class InProcessPresenceHub {
  readonly now: () => number;
  private readonly logger: Logger;
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly listeners = new Map<string, Set<PresenceListener>>();
  private lastSweep: number;

  constructor(options: PresenceHubOptions = {}) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.lastSweep = this.now();
  }

  announce(docId: string, state: PresenceState, ttlMs: number): void {
    const json = JSON.stringify(state);
    const now = this.now();
    let doc = this.entries.get(docId);
    if (doc === undefined) this.entries.set(docId, (doc = new Map()));
    doc.set(state.clientId, { json, expiresAt: now + ttlMs });
    this.maybeSweep(now);
    this.publish(docId, () => ({ kind: 'update', docId, state: JSON.parse(json) as PresenceState }));
  }

  leave(docId: string, clientId: string): void {
    const doc = this.entries.get(docId);
    doc?.delete(clientId);
    if (doc?.size === 0) this.entries.delete(docId);
    this.publish(docId, () => ({ kind: 'leave', docId, clientId }));
  }

  list(docId: string): PresenceState[] {
    const doc = this.entries.get(docId);
    if (doc === undefined) return [];
    this.prune(docId, doc, this.now());
    return [...doc.values()].map((e) => JSON.parse(e.json) as PresenceState);
  }

  /** Returns the unsubscribe function (idempotent). */
  subscribe(docId: string, listener: PresenceListener): () => void {
    let set = this.listeners.get(docId);
    if (set === undefined) this.listeners.set(docId, (set = new Set()));
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const subscription: PresenceListener = (event) => listener(event);
    set.add(subscription);
    return () => {
      const current = this.listeners.get(docId);
      current?.delete(subscription);
      if (current?.size === 0) this.listeners.delete(docId);
    };
  }

  private publish(docId: string, event: () => PresenceEvent): void {
    const set = this.listeners.get(docId);
    if (set === undefined) return;
    // Snapshot the listeners now: one that subscribes after the publish must not get this event.
    for (const listener of [...set]) {
      queueMicrotask(() => {
        // Unsubscribed in the meantime: deliver nothing (the contract's "no event after unsubscribe").
        if (!this.listeners.get(docId)?.has(listener)) return;
        try {
          listener(event());
        } catch (err) {
          this.logger.error({ err, docId }, 'presence: a listener threw');
        }
      });
    }
  }

  private prune(docId: string, doc: Map<string, Entry>, now: number): void {
    for (const [clientId, entry] of doc) if (entry.expiresAt <= now) doc.delete(clientId);
    if (doc.size === 0) this.entries.delete(docId);
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [docId, doc] of this.entries) this.prune(docId, doc, now);
  }
}
