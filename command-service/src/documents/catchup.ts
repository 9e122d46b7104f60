/**
 * What a client opening a document from a version it holds is sent — pure, so the rules are tested on their own:
 *
 * - nothing held: the whole text (`snapshot`);
 * - ahead of the document: `resync` + `snapshot`;
 * - further behind than the catch-up limit: `resync` + `snapshot`;
 * - otherwise the missing ops (`catchup`): from the channel's in-memory window, preceded by the ops older than the
 *   window that the hub fetched from the read models and the log (`older`, see DocumentSource.opsBetween). When
 *   those could not all be found, `resync` + `snapshot` — never a catch-up with a hole;
 * - a catch-up of more than `maxCatchupBytes`: `resync` + `snapshot` (an open is a few bytes; what it costs the
 *   server to answer is bounded by this and by the document size limit).
 *
 * Snapshots and catch-ups larger than a frame go out in parts (frames.ts).
 */
import type { DocumentState, OpCommitted } from '@collab/core';
import type { ServerMessage } from '@collab/protocol';
import type { Subscriber } from './document-channel.js';
import { toWireOp } from '@collab/protocol';
import { catchupFrames, snapshotFrames } from './frames.js';

/**
 * The versions a client at `fromVersion` still misses beyond what `state.recent` holds and what was fetched
 * already (`older`: the ops right after `fromVersion`, gapless), or undefined when nothing is to be fetched
 * (nothing missing, or the client gets the whole text anyway).
 */
export function missingBeforeWindow(
  state: DocumentState,
  fromVersion: number | undefined,
  catchupLimit: number,
  older: readonly OpCommitted[] = [],
): { from: number; to: number } | undefined {
  if (fromVersion === undefined || fromVersion > state.version) return undefined;
  if (state.version - fromVersion > catchupLimit) return undefined;
  const oldestInWindow = state.version - state.recent.length + 1;
  const have = fromVersion + older.length; // versions up to `have` are held or fetched
  if (have + 1 >= oldestInWindow) return undefined;
  return { from: have + 1, to: oldestInWindow - 1 };
}

/** What bounds the answer to an open. */
export interface CatchupLimits {
  /** Versions: a client further behind gets the whole text. */
  catchupLimit: number;
  /** Bytes of ops: a larger catch-up is replaced by the whole text. */
  maxCatchupBytes: number;
  /** Bytes per frame: larger snapshots and catch-ups go out in parts (frames.ts). */
  maxFrameBytes: number;
}

export function catchupMessages(
  state: DocumentState,
  fromVersion: number | undefined,
  limits: CatchupLimits,
  older: readonly OpCommitted[] = [],
): ServerMessage[] {
  // Built only when sent: the text of a large document is not copied for a catch-up.
  const snapshot = (): ServerMessage[] =>
    snapshotFrames(state.docId, state.version, state.doc.toString(), limits.maxFrameBytes);
  if (fromVersion === undefined) return snapshot();
  const resync = (reason: string): ServerMessage[] => [{ t: 'resync', docId: state.docId, reason }, ...snapshot()];
  if (fromVersion > state.version) return resync(`version ${fromVersion} is ahead of the document (${state.version})`);
  const behind = state.version - fromVersion;
  const { catchupLimit } = limits;
  if (behind > catchupLimit) return resync(`${behind} versions behind, more than the catch-up limit (${catchupLimit})`);
  const fetched = older.filter((op) => op.version > fromVersion);
  const have = fromVersion + fetched.length;
  const missing = [...fetched, ...state.recent.filter((op) => op.version > have)];
  const gapless = missing.length === behind && missing.every((op, i) => op.version === fromVersion + 1 + i);
  if (!gapless) return resync(`the ops after version ${fromVersion} could not all be read; here is the whole text`);
  const frames = catchupFrames(state.docId, state.version, missing.map(toWireOp), limits);
  if (frames === undefined) {
    return resync(`the ops since version ${fromVersion} take more than ${limits.maxCatchupBytes} bytes`);
  }
  return frames;
}

/**
 * Stands in for a subscriber while its catch-up is read from storage: it is subscribed at once (so nothing the
 * channel sends from then on is lost) but holds those messages back until `release` has sent the catch-up first.
 * It keeps the subscriber's id, so closing, submitting and moving to a reloaded channel work as for the subscriber.
 */
export class PendingSubscriber implements Subscriber {
  private held: ServerMessage[] | undefined = [];
  private superseded = false;

  constructor(private readonly target: Subscriber) {}

  get id(): string {
    return this.target.id;
  }

  deliver(message: ServerMessage): void {
    if (this.superseded) return;
    if (this.held === undefined) this.target.deliver(message);
    else this.held.push(message);
  }

  /** A newer open of the same subscriber replaced this one: drop what was held, send nothing from now on. */
  supersede(): void {
    this.superseded = true;
    this.held = [];
  }

  /** Send `first` (the catch-up), then what was held back; from now on messages go straight through. */
  release(first: readonly ServerMessage[]): void {
    if (this.superseded) return;
    const held = this.held ?? [];
    this.held = undefined;
    for (const message of first) this.target.deliver(message);
    for (const message of held) this.target.deliver(message);
  }
}
