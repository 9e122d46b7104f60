/**
 * One document's `open` and what waits for its answer: the request (for the whole text, or from the version the
 * client holds, with the reason when the client reloads on its own finding), sent again when no answer comes in
 * time; the live messages held back until the answer lands (they may be ahead of what the client holds); and a
 * snapshot or catch-up arriving in parts.
 */
import type { ResyncCause, ServerMessage } from '@collab/protocol';
import { PartsAssembler } from './parts.js';
import type { SyncHost } from './sync-contract.js';

export class OpenHandshake {
  /** Counts opens sent: an answer being processed stops if processing it asked for another open. */
  requests = 0;
  /** Why the next open reloads the document, when the client found a problem itself (told to the server). */
  cause: ResyncCause | undefined;
  /** A snapshot or catch-up arriving in parts. */
  readonly parts = new PartsAssembler();
  private held: ServerMessage[] = [];
  private cancelTimer: (() => void) | undefined;
  /** Timeouts in a row on this connection with nothing of the answer arriving. */
  private silentTimeouts = 0;

  constructor(
    private readonly docId: string,
    private readonly host: Pick<SyncHost, 'send' | 'schedule'>,
    private readonly timeoutMs: number,
    /**
     * No answer within the timeout: ask again, or give up on the connection (the caller knows whether it still
     * waits, and for what). `silentTimeouts` counts this one.
     */
    private readonly onTimeout: (silentTimeouts: number) => void,
  ) {}

  /** Send an open: for the whole text (`fresh`), or for what came after `version`. */
  send(fresh: boolean, version: number): void {
    const cause = this.cause;
    this.host.send(
      fresh
        ? { t: 'open', docId: this.docId, ...(cause === undefined ? {} : { resync: cause }) }
        : { t: 'open', docId: this.docId, version },
    );
    this.armTimer();
  }

  /** An answer can be lost (a frame the server dropped under load): ask again rather than wait forever. */
  armTimer(): void {
    this.stopTimer();
    this.cancelTimer = this.host.schedule(this.timeoutMs, () => {
      this.cancelTimer = undefined;
      this.onTimeout(++this.silentTimeouts);
    });
  }

  /** Part of a large answer arrived: the server is working on it, so the timer starts again from zero. */
  progressed(): void {
    this.silentTimeouts = 0;
    this.armTimer();
  }

  stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Keep a live message until the answer has landed. */
  hold(message: ServerMessage): void {
    this.held.push(message);
  }

  /** An ack of `seq` at or below `version` is among the messages held back. */
  holdsAck(seq: number, version: number): boolean {
    return this.held.some((m) => m.t === 'ack' && m.seq === seq && m.version <= version);
  }

  /** The answer landed: the messages held back, in order, to be handled now. */
  answered(): ServerMessage[] {
    this.cause = undefined;
    this.silentTimeouts = 0;
    this.stopTimer();
    const held = this.held;
    this.held = [];
    return held;
  }

  /** The connection is gone: nothing is on its way any more. */
  reset(): void {
    this.held = [];
    this.silentTimeouts = 0;
    this.parts.reset();
    this.stopTimer();
  }
}
