/**
 * Where a document stands with the server: exactly one phase at a time, so no mix of flags can say "opening while
 * offline" or "ops flowing while closed". Pure: DocumentSync keeps the phase and does what each step implies.
 *
 * - offline: no connection. Edits are kept; once connected the document is opened again — for the whole text if
 *   `fresh` (a reload was asked for meanwhile), else from the version held.
 * - opening: an `open` is outstanding (`fresh` as above); live messages wait until its answer (a snapshot or a
 *   catch-up) lands.
 * - live: loaded, connected, the open answered: ops flow.
 * - closed: for good.
 *
 *   offline ──connected──▶ opening ──answered──▶ live ──open again (gap, resync, reload)──▶ opening
 *      ▲                      │                    │
 *      └─────disconnected─────┴────────────────────┘            any ──close──▶ closed
 */
export type Phase =
  { kind: 'offline'; fresh: boolean } | { kind: 'opening'; fresh: boolean } | { kind: 'live' } | { kind: 'closed' };

export const INITIAL_PHASE: Phase = { kind: 'offline', fresh: false };
export const CLOSED: Phase = { kind: 'closed' };

/** Connected (whether or not the open has been answered). */
export const isOnline = (phase: Phase): boolean => phase.kind === 'opening' || phase.kind === 'live';

/** The next (or the current) open asks for the whole text. */
export const wantsFresh = (phase: Phase): boolean =>
  (phase.kind === 'offline' || phase.kind === 'opening') && phase.fresh;

/** An open is sent now: the phase while it is outstanding. */
export const opening = (fresh: boolean): Phase => ({ kind: 'opening', fresh });

/**
 * Another open is wanted (`fresh`: for the whole text): while offline it is remembered for the next connection,
 * once closed nothing happens, otherwise it is sent now (`send`).
 */
export function openRequested(phase: Phase, fresh: boolean): { phase: Phase; send: boolean } {
  if (phase.kind === 'offline') return { phase: { kind: 'offline', fresh: phase.fresh || fresh }, send: false };
  if (phase.kind === 'closed') return { phase, send: false };
  return { phase: opening(fresh), send: true };
}

/** The answer to an open landed: live if still connected (offline otherwise, with nothing left to ask for). */
export const answered = (phase: Phase): Phase =>
  isOnline(phase) ? { kind: 'live' } : { kind: 'offline', fresh: false };

/** The connection is gone: offline, still owing the whole text if an open for it was outstanding or wanted. */
export const disconnected = (phase: Phase): Phase =>
  phase.kind === 'closed' ? phase : { kind: 'offline', fresh: wantsFresh(phase) };
