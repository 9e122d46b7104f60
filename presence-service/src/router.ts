/**
 * PresenceRouter: presence for the sessions of one command-service instance, independent of the transport.
 *
 * - Per document, one bus subscription per instance, held while at least one local session has the document
 *   open (joined). An update from a local session goes straight to the document's other local sessions; the bus
 *   carries it to the other instances, whose events go to their local sessions (this instance's own echo from the
 *   bus is recognised by its origin and skipped).
 * - A session joins when it opens a document (the session checked `read` permission for that); only joined
 *   sessions receive a document's presence or may publish to it.
 * - Client updates are throttled per session and document (throttle.ts): at most `updatesPerSecond` on average,
 *   bursts of two, the newest replacing an older one waiting, the last one always sent.
 * - Each update is stamped with what the server knows (user id, the token's name, a colour) and its positions
 *   are moved from the version the client named to the document's version on this instance before it is
 *   announced; each delivery moves them again to the receiving instance's version. Too old for the window of
 *   recent ops: the cursor is dropped rather than shown in the wrong place.
 * - Heartbeats re-announce every TTL/3 while the session lives (which also repairs state after a bus outage or a
 *   Redis restart); leave on close or disconnect. A client whose instance died stops heartbeating and vanishes
 *   from everyone's view within the TTL: the bus publishes nothing on expiry, so each router times out the
 *   remote entries it holds (remote-roster.ts).
 *
 * - Work is batched per turn of the event loop (turn-batcher.ts): the announcements of one turn go to the bus
 *   together, and the events of one turn are delivered per document in one go — per sender only its newest state
 *   (or its leave) survives, in the order of the senders' latest events, each message is encoded once for all
 *   recipients, and a recipient gets all of its frames in one write (`PresenceMember.deliverEncoded`).
 *
 * Presence is best effort and must never break editing: bus failures are logged, never thrown at the session.
 */
import { randomUUID } from 'node:crypto';
import type { Logger, PresenceBus, PresenceEvent, PresenceState } from '@collab/core';
import { silentLogger } from '@collab/core';
import type { PresenceClientMessage, PresenceServerMessage, PresenceUser } from '@collab/protocol';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { colorFor } from './colors.js';
import { DEFAULT_PRESENCE_SETTINGS } from './config.js';
import type { PresenceData } from './remote-roster.js';
import { RemoteRoster } from './remote-roster.js';
import { UpdateThrottle } from './throttle.js';
import { TurnBatcher } from './turn-batcher.js';
import type { Cursor, DocumentWindow } from './positions.js';
import { cursorAt, lengthAt } from './positions.js';

/** The document as this instance holds it: what positions are transformed with. */
export interface PresenceDocuments {
  /** Version, length in code points, and the window of recent ops; undefined when the document is not loaded. */
  window(docId: string): Promise<(DocumentWindow & { length: number }) | undefined>;
}

/** A local session, as presence sees it. */
export interface PresenceMember {
  readonly sessionId: string;
  readonly userId: string;
  /** The token's display name; when absent the client's own `name`, else the user id. */
  readonly name: string | undefined;
  deliver(message: PresenceServerMessage): void;
  /**
   * Optional: the same messages `deliver` would get, already JSON-encoded (shared by every recipient of a
   * batch), to be sent together in one write. Without it, `deliver` gets them one by one.
   */
  deliverEncoded?(frames: readonly string[]): void;
}

export type PresenceErrorCode = 'ERR_DOC_NOT_OPEN' | 'ERR_INVALID_MESSAGE';

export class PresenceError extends Error {
  override readonly name = 'PresenceError';
  constructor(
    readonly code: PresenceErrorCode,
    message: string,
    readonly docId: string,
  ) {
    super(message);
  }
}

export interface PresenceRouterOptions {
  bus: PresenceBus;
  documents: PresenceDocuments;
  /** How long a silent client stays visible. Default 5000 ms. */
  ttlMs?: number;
  /** Most updates per second per session and document that go out. Default 20. */
  updatesPerSecond?: number;
  clock?: Clock;
  logger?: Logger;
  /** What the router reports for metrics; the command-service maps it to its instruments. */
  observer?: PresenceObserver;
}

/** Events of the presence path worth counting (times in ms, by the router's clock). Every method is optional. */
export interface PresenceObserver {
  /** An update from another instance arrived through the bus, `ms` after its announcer sent it (two clocks). */
  remoteDelivery?(ms: number): void;
  /** A client's update went out to this instance's sessions and the bus, `ms` after it arrived (throttle included). */
  updateSent?(ms: number): void;
  /**
   * A client's update was held by the throttle: `delayed` waited for its slot, `replaced` was overtaken by a newer
   * one from the same session before it went out (only the newest position matters).
   */
  throttled?(outcome: 'delayed' | 'replaced'): void;
}

interface Pending {
  /** When the client's update arrived (the router's clock). */
  receivedAt: number;
  cursor: Cursor | undefined;
  version: number;
  name: string | undefined;
  color: string | undefined;
}

interface LocalEntry {
  member: PresenceMember;
  docId: string;
  /** Receives events once it has had the list of who is here (events that arrive meanwhile are in that list). */
  ready: boolean;
  left: boolean;
  name: string;
  color: string;
  /** The state last announced (positions at `version`), re-announced by heartbeats. */
  cursor: Cursor | undefined;
  version: number;
  /** The client's updates, on their way out at the rate allowed. */
  throttle: UpdateThrottle<Pending>;
  cancelHeartbeat: (() => void) | undefined;
}

/** A batched delivery: the sender's newest state, or its leave. */
type Delivery = { sessionId: string; user: PresenceUser } | { sessionId: string; user: undefined };

interface DocPresence {
  docId: string;
  locals: Map<string, LocalEntry>;
  /** The other instances' sessions present, each until its TTL runs out. */
  remote: RemoteRoster;
  /** Resolves to the unsubscribe function, or undefined while not subscribed (the bus was down: retried). */
  subscription: Promise<(() => Promise<void>) | undefined> | undefined;
  /** Deliveries run one after the other so sessions see events in the bus's order. */
  deliveries: Promise<void>;
  /** Events of this turn not yet delivered, by sender: the newest wins and moves to the end. */
  batch: Map<string, Delivery>;
}

export class PresenceRouter {
  readonly ttlMs: number;
  readonly minIntervalMs: number;
  private readonly updatesPerSecond: number;
  private readonly bus: PresenceBus;
  private readonly documents: PresenceDocuments;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly docs = new Map<string, DocPresence>();
  /** Local entries to announce, and documents with a batch of events to deliver, at the end of this turn. */
  private readonly batcher: TurnBatcher<LocalEntry, DocPresence>;
  private closed = false;
  private readonly observer: PresenceObserver;
  /** Marks this router's announcements (see PresenceData.origin). */
  private readonly origin = randomUUID();

  constructor(options: PresenceRouterOptions) {
    this.bus = options.bus;
    this.documents = options.documents;
    this.ttlMs = options.ttlMs ?? DEFAULT_PRESENCE_SETTINGS.ttlMs;
    this.updatesPerSecond = options.updatesPerSecond ?? DEFAULT_PRESENCE_SETTINGS.updatesPerSecond;
    this.minIntervalMs = 1000 / this.updatesPerSecond;
    this.clock = options.clock ?? realClock;
    this.observer = options.observer ?? {};
    this.logger = options.logger ?? silentLogger;
    this.batcher = new TurnBatcher(this.clock, {
      announce: (entry) => this.publish(entry),
      deliver: (doc) => this.deliverBatch(doc),
    });
  }

  /** Sessions of this instance present in the document (for tests and status). */
  localCount(docId: string): number {
    return this.docs.get(docId)?.locals.size ?? 0;
  }

  /** Members this instance knows of, over all its documents: its own sessions and those of other instances. */
  memberCounts(): { local: number; remote: number } {
    let local = 0;
    let remote = 0;
    for (const doc of this.docs.values()) {
      local += doc.locals.size;
      for (const user of doc.remote.users()) if (!doc.locals.has(user.sessionId)) remote++;
    }
    return { local, remote };
  }

  /**
   * The session opened the document (with read permission): send it who is here, and announce it. Joining
   * again (a re-open) sends the list again. Never throws for bus trouble.
   */
  async join(member: PresenceMember, docId: string): Promise<void> {
    if (this.closed) return;
    const window = await this.documents.window(docId);
    // From here to the first await below nothing else runs: the entry is in place before any event is handled.
    const doc = this.doc(docId);
    let entry = doc.locals.get(member.sessionId);
    if (entry === undefined) {
      const created: LocalEntry = {
        member,
        docId,
        ready: false,
        left: false,
        name: member.name ?? member.userId,
        color: colorFor(member.userId),
        cursor: undefined,
        version: window?.version ?? 0,
        throttle: new UpdateThrottle<Pending>(this.updatesPerSecond, this.clock, (pending) =>
          this.send(created, pending),
        ),
        cancelHeartbeat: undefined,
      };
      entry = created;
      doc.locals.set(member.sessionId, entry);
    }
    const local = entry;
    local.ready = false;
    await this.subscribe(doc);
    try {
      for (const state of await this.bus.list(docId)) this.remember(doc, state);
    } catch (err) {
      this.logger.warn({ err, docId }, 'presence: listing the document failed; showing what this instance knows');
    }
    if (local.left) return;
    // In the delivery queue, so the list goes out after every event already queued and before any later one.
    await this.enqueue(doc, async () => {
      if (local.left) return;
      const window = await this.documents.window(docId);
      const users = doc.remote
        .users()
        .filter((user) => user.sessionId !== member.sessionId)
        .map((user) => this.toLocal(user, window));
      member.deliver({ t: 'presence', docId, users });
      local.ready = true;
    });
    this.announce(local);
  }

  /**
   * A client's presence message. Validates it against the document (the shape was validated by zod), then
   * throttles: the newest update waits for its slot, replacing any older one still waiting.
   */
  async update(member: PresenceMember, message: PresenceClientMessage): Promise<void> {
    const { docId } = message;
    const entry = this.docs.get(docId)?.locals.get(member.sessionId);
    if (entry === undefined || entry.left) {
      throw new PresenceError('ERR_DOC_NOT_OPEN', `Open document ${docId} before sending presence to it.`, docId);
    }
    const window = await this.documents.window(docId);
    if (window !== undefined) {
      if (message.version > window.version) {
        throw new PresenceError(
          'ERR_INVALID_MESSAGE',
          `Invalid presence message: version ${message.version} is ahead of the document (${window.version}).`,
          docId,
        );
      }
      const length = lengthAt(window.length, message.version, window);
      const c = message.cursor;
      if (c !== undefined && length !== undefined && (c.anchor > length || c.head > length)) {
        throw new PresenceError(
          'ERR_INVALID_MESSAGE',
          `Invalid presence message: the cursor is outside the text (${length} characters at version ${message.version}).`,
          docId,
        );
      }
    }
    const outcome = entry.throttle.offer({
      receivedAt: this.clock.now(),
      cursor: message.cursor,
      version: message.version,
      name: message.name,
      color: message.color,
    });
    if (outcome !== 'sent') this.observer.throttled?.(outcome);
  }

  /** The session closed the document: remove its presence now. */
  async leave(member: PresenceMember, docId: string): Promise<void> {
    const doc = this.docs.get(docId);
    const entry = doc?.locals.get(member.sessionId);
    if (doc === undefined || entry === undefined) return;
    entry.left = true;
    entry.throttle.cancel();
    entry.cancelHeartbeat?.();
    doc.locals.delete(member.sessionId);
    // This instance's other sessions see it at once; the bus's echo then finds nothing to forget.
    if (this.forget(doc, member.sessionId)) this.broadcastLeave(doc, member.sessionId);
    const left = this.bus
      .leave(docId, member.sessionId)
      .catch((err: unknown) => this.logger.warn({ err, docId }, 'presence: leave failed; the entry expires by TTL'));
    if (doc.locals.size === 0) await this.drop(doc);
    await left;
  }

  /** The connection is gone: leave every document it had. */
  async leaveAll(member: PresenceMember): Promise<void> {
    const docIds = [...this.docs.values()].filter((d) => d.locals.has(member.sessionId)).map((d) => d.docId);
    await Promise.all(docIds.map((docId) => this.leave(member, docId)));
  }

  /** Leave everything and stop. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.docs.values()].flatMap((doc) => [...doc.locals.values()].map((e) => this.leave(e.member, doc.docId))),
    );
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /** The throttle let a client's update through: take it and announce. */
  private send(entry: LocalEntry, pending: Pending): void {
    this.observer.updateSent?.(this.clock.now() - pending.receivedAt);
    entry.cursor = pending.cursor;
    entry.version = pending.version;
    // The token's name wins: a client cannot pass itself off as someone else.
    if (entry.member.name === undefined && pending.name !== undefined) entry.name = pending.name;
    if (pending.color !== undefined) entry.color = pending.color;
    this.announce(entry);
  }

  /** Announce the entry at the end of this turn (in its state by then), and schedule the next heartbeat. */
  private announce(entry: LocalEntry): void {
    entry.cancelHeartbeat?.();
    entry.cancelHeartbeat = this.clock.schedule(this.ttlMs / 3, () => {
      entry.cancelHeartbeat = undefined;
      // A doc whose subscription failed (bus down) retries it on the heartbeat.
      const doc = this.docs.get(entry.docId);
      if (doc !== undefined) void this.subscribe(doc);
      this.announce(entry);
    });
    this.batcher.announce(entry);
  }

  /**
   * Move the entry's cursor to the current version, queue it for this instance's other sessions of the document
   * (they never wait for the bus: no round trip to Redis, and presence between them survives a Redis outage),
   * and put it on the bus for the other instances and for `list`. Resolves once queued, not when the bus is done.
   */
  private publish(entry: LocalEntry): Promise<void> {
    return (async () => {
      const window = await this.documents.window(entry.docId);
      if (entry.left) return;
      if (window !== undefined && entry.version < window.version) {
        entry.cursor =
          entry.cursor === undefined ? undefined : cursorAt(entry.cursor, entry.version, window, entry.member.userId);
        entry.version = window.version;
      }
      const data: PresenceData = {
        name: entry.name,
        color: entry.color,
        ...(entry.cursor === undefined ? {} : { cursor: entry.cursor }),
        version: entry.version,
        sentAt: this.clock.now(),
        ttlMs: this.ttlMs,
        origin: this.origin,
      };
      const state: PresenceState = {
        clientId: entry.member.sessionId,
        userId: entry.member.userId,
        data: data as unknown as Record<string, unknown>,
      };
      const doc = this.docs.get(entry.docId);
      const user = doc === undefined ? undefined : this.remember(doc, state);
      if (doc !== undefined && user !== undefined) this.queueDelivery(doc, { sessionId: user.sessionId, user });
      this.bus
        .announce(entry.docId, state, Math.round(this.ttlMs))
        .catch((err: unknown) =>
          this.logger.warn({ err, docId: entry.docId }, 'presence: announce failed; the next heartbeat retries'),
        );
    })().catch((err: unknown) => this.logger.warn({ err, docId: entry.docId }, 'presence: announce failed'));
  }

  // ---- receiving ----------------------------------------------------------------------------------------------

  private doc(docId: string): DocPresence {
    let doc = this.docs.get(docId);
    if (doc === undefined) {
      // An entry that expires leaves the view of this instance's sessions of the document.
      const remote = new RemoteRoster(this.clock, (sessionId) => this.broadcastLeave(created, sessionId));
      const created: DocPresence = {
        docId,
        locals: new Map(),
        remote,
        subscription: undefined,
        deliveries: Promise.resolve(),
        batch: new Map(),
      };
      doc = created;
      this.docs.set(docId, doc);
    }
    return doc;
  }

  private subscribe(doc: DocPresence): Promise<unknown> {
    doc.subscription ??= this.bus
      .subscribe(doc.docId, (event) => this.onEvent(doc, event))
      .catch((err: unknown) => {
        this.logger.warn({ err, docId: doc.docId }, 'presence: subscribing failed; retrying on the next heartbeat');
        doc.subscription = undefined;
        return undefined;
      });
    return doc.subscription;
  }

  /** The last local session left: unsubscribe and forget the document. */
  private async drop(doc: DocPresence): Promise<void> {
    this.docs.delete(doc.docId);
    doc.remote.clear();
    const unsubscribe = await doc.subscription;
    await unsubscribe?.().catch((err: unknown) =>
      this.logger.warn({ err, docId: doc.docId }, 'presence: unsubscribing failed'),
    );
  }

  private onEvent(doc: DocPresence, event: PresenceEvent): void {
    if (this.docs.get(doc.docId) !== doc) return; // dropped meanwhile
    if (event.kind === 'leave') {
      if (this.forget(doc, event.clientId)) this.broadcastLeave(doc, event.clientId);
      return;
    }
    // Our own announcement coming back: our sessions had it already (and `remember` was done then).
    if (event.state.data.origin === this.origin) return;
    const sentAt = event.state.data.sentAt;
    if (typeof sentAt === 'number') this.observer.remoteDelivery?.(Math.max(0, this.clock.now() - sentAt));
    const user = this.remember(doc, event.state);
    if (user === undefined) return;
    this.queueDelivery(doc, { sessionId: user.sessionId, user });
  }

  /** Into this turn's batch of the document: the sender's newest event replaces its older one and moves last. */
  private queueDelivery(doc: DocPresence, delivery: Delivery): void {
    doc.batch.delete(delivery.sessionId);
    doc.batch.set(delivery.sessionId, delivery);
    this.batcher.deliver(doc);
  }

  /** Deliver the document's batch (after whatever is queued before it): each message encoded once. */
  private deliverBatch(doc: DocPresence): void {
    const batch = [...doc.batch.values()];
    doc.batch.clear();
    if (batch.length === 0) return;
    void this.enqueue(doc, async () => {
      const window = await this.documents.window(doc.docId);
      const out = batch.map((d) => ({
        sessionId: d.sessionId,
        message: (d.user === undefined
          ? { t: 'presence-leave', docId: doc.docId, sessionId: d.sessionId }
          : { t: 'presence', docId: doc.docId, update: this.toLocal(d.user, window) }) as PresenceServerMessage,
        encoded: undefined as string | undefined,
      }));
      for (const local of doc.locals.values()) {
        if (!local.ready) continue;
        const member = local.member;
        const mine =
          out.length === 1 && out[0]!.sessionId !== member.sessionId
            ? out
            : out.filter((o) => o.sessionId !== member.sessionId);
        if (mine.length === 0) continue;
        if (member.deliverEncoded !== undefined) {
          member.deliverEncoded(mine.map((o) => (o.encoded ??= JSON.stringify(o.message))));
        } else {
          for (const o of mine) member.deliver(o.message);
        }
      }
    });
  }

  /** Keep (or refresh) a remote entry; returns the user, or undefined for an unreadable or outdated state. */
  private remember(doc: DocPresence, state: PresenceState): PresenceUser | undefined {
    const user = doc.remote.remember(state);
    if (user !== 'malformed') return user;
    this.logger.debug({ docId: doc.docId, clientId: state.clientId }, 'presence: skipping a malformed state');
    return undefined;
  }

  private forget(doc: DocPresence, clientId: string): boolean {
    return doc.remote.forget(clientId);
  }

  private broadcastLeave(doc: DocPresence, sessionId: string): void {
    this.queueDelivery(doc, { sessionId, user: undefined });
  }

  private enqueue(doc: DocPresence, task: () => Promise<void>): Promise<void> {
    doc.deliveries = doc.deliveries.then(task).catch((err: unknown) => {
      this.logger.warn({ err, docId: doc.docId }, 'presence: delivery failed');
    });
    return doc.deliveries;
  }

  /** A user as this instance's sessions should see it: positions at this instance's version of the document. */
  private toLocal(user: PresenceUser, window: (DocumentWindow & { length: number }) | undefined): PresenceUser {
    // Not loaded, or the announcer is ahead of our replica: send it as it is. The client holds it until it has
    // the ops up to that version (they are on their way through the relay).
    if (window === undefined || user.version >= window.version) return user;
    const { cursor, ...rest } = user;
    const moved = cursor === undefined ? undefined : cursorAt(cursor, user.version, window, user.userId);
    return { ...rest, ...(moved === undefined ? {} : { cursor: moved }), version: window.version };
  }
}
