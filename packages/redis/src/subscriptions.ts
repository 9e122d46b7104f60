/**
 * All subscriptions of one bus share one subscriber connection (a connection in subscribe mode can do nothing
 * else). Channels are reference-counted: the first listener of a document SUBSCRIBEs, the last one to leave
 * UNSUBSCRIBEs. Subscribe and unsubscribe calls are serialized, so a SUBSCRIBE and an UNSUBSCRIBE of one channel
 * can never cross on the wire and leave the listener set and Redis disagreeing.
 *
 * Reconnects: ioredis re-subscribes every channel it holds when the connection comes back (autoResubscribe), so
 * listeners survive a dropped connection; events published while it was down are lost (presence is a stream of
 * current state, and the next heartbeat repairs it).
 */
import type { Redis } from 'ioredis';
import type { PresenceEvent } from '@collab/core';
import type { Logger } from '@collab/core';

export type Listener = (event: PresenceEvent) => void;

export class SubscriberHub {
  private readonly channels = new Map<string, Set<Listener>>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: Redis,
    private readonly logger: Logger,
  ) {
    connection.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  /** Resolves once the channel is subscribed on the server. */
  add(channel: string, listener: Listener): Promise<void> {
    return this.serialized(async () => {
      const listeners = this.channels.get(channel);
      if (listeners !== undefined) {
        listeners.add(listener);
        return;
      }
      // Registered before SUBSCRIBE: a message can arrive in the same read as the SUBSCRIBE reply, before this
      // function resumes, and must find its listener.
      this.channels.set(channel, new Set([listener]));
      try {
        await this.connection.subscribe(channel);
      } catch (err) {
        this.channels.delete(channel);
        throw err;
      }
    });
  }

  remove(channel: string, listener: Listener): Promise<void> {
    return this.serialized(async () => {
      const listeners = this.channels.get(channel);
      if (listeners === undefined || !listeners.delete(listener) || listeners.size > 0) return;
      this.channels.delete(channel);
      // Nobody listens any more, so delivery has already stopped; a failed UNSUBSCRIBE only costs traffic.
      await this.connection.unsubscribe(channel).catch((err: unknown) => {
        this.logger.warn({ err, channel }, 'presence: UNSUBSCRIBE failed');
      });
    });
  }

  get channelCount(): number {
    return this.channels.size;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.chain.then(fn);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private dispatch(channel: string, message: string): void {
    const listeners = this.channels.get(channel);
    if (listeners === undefined) return;
    const event = parseEvent(message);
    if (event === undefined) {
      this.logger.warn({ channel, message: message.slice(0, 200) }, 'presence: ignoring a malformed event');
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // One failing listener must not starve the others of this event.
        this.logger.error({ err, channel }, 'presence: a listener threw');
      }
    }
  }
}

function parseEvent(message: string): PresenceEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.docId !== 'string') return undefined;
  if (e.kind === 'leave' && typeof e.clientId === 'string') {
    return { kind: 'leave', docId: e.docId, clientId: e.clientId };
  }
  const state = e.state as Record<string, unknown> | undefined;
  if (
    e.kind === 'update' &&
    typeof state === 'object' &&
    state !== null &&
    typeof state.clientId === 'string' &&
    typeof state.userId === 'string' &&
    typeof state.data === 'object' &&
    state.data !== null
  ) {
    return {
      kind: 'update',
      docId: e.docId,
      state: { clientId: state.clientId, userId: state.userId, data: state.data as Record<string, unknown> },
    };
  }
  return undefined;
}
