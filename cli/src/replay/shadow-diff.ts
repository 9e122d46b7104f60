/**
 * The shadow replay's report: the live read models beside the shadow's (rebuilt from the log by this release's
 * projection code), document by document — head version, the text's state hash, documents missing from one side.
 *
 * Texts are rebuilt from each side's own op rows (read-side's fold, which refuses a gap), not from the heads: a
 * projection that stores the wrong op shows here even when its head looks right. Both texts are hashed at the
 * version the two sides share (the lower head) and each at its own head, so a live keyspace that moved on while
 * the shadow replayed ("live ahead", the same text at the shadow's version) is told apart from a different text.
 * The hash is the protocol's state hash (16 hex digits of SHA-256 of the UTF-8 text), the one clients check.
 */
import { createHash } from 'node:crypto';
import { CollabError, isCollabError, type ReadModelStore } from '@collab/core';
import { OtError, type } from '@collab/ot-text';
import { stateHashFromDigest } from '@collab/protocol';
import { fold, historyGap, type DocumentState } from '@collab/read-side';
import { runConcurrently } from '@collab/projection-service';

/** One side: its store, and the documents it has heads for (the port cannot list them). */
export interface ShadowSide {
  store: ReadModelStore;
  docIds: Iterable<string>;
}

export type ShadowStatus =
  | 'same'
  /** Both have it, at the same head version, with the same text. */
  | 'missing-in-shadow'
  | 'extra-in-shadow'
  /** The same text at the shared version, but the heads differ (one side has more versions). */
  | 'version-differs'
  /** Different texts at the shared version. */
  | 'text-differs'
  /** A side's op rows cannot rebuild its head (a gap): the error says which version. */
  | 'unreadable';

export interface SideState {
  version: number;
  /** The state hash of the text at `version`. */
  hash: string;
}

export interface ShadowDocument {
  docId: string;
  status: ShadowStatus;
  live?: SideState;
  shadow?: SideState;
  /** Where both sides were hashed (the lower head), and their hashes there. */
  shared?: { version: number; live: string; shadow: string };
  error?: string;
}

export interface ShadowReport {
  documents: number;
  same: number;
  /** Every document whose status is not `same`, by id. */
  differences: ShadowDocument[];
}

const PAGE = 5_000;

const hashOf = (state: DocumentState): string =>
  stateHashFromDigest(createHash('sha256').update(state.doc.toString(), 'utf8').digest('hex'));

/** The document's text folded from its op rows, hashed at each version of `at` (ascending). */
async function hashesAt(store: ReadModelStore, docId: string, at: readonly number[]): Promise<string[]> {
  let state: DocumentState = { docId, version: 0, doc: type.create('') };
  const hashes: string[] = [];
  for (const target of at) {
    while (state.version < target) {
      const ops = await store.getOps(docId, state.version + 1, Math.min(state.version + 1 + PAGE, target + 1));
      const next = fold(state, ops, target);
      if (next.version === state.version) throw historyGap(docId, state.version + 1, undefined, target);
      state = next;
    }
    hashes.push(hashOf(state));
  }
  return hashes;
}

/** A gap or a broken op in a side's rows is a finding about that side; anything else (a store down) is not. */
const isBadHistory = (err: unknown): err is Error =>
  err instanceof OtError || (isCollabError(err) && err.code === 'ERR_CORRUPT');

/** hashesAt, naming the side in a history error (the report says which keyspace cannot rebuild the text). */
async function sideHashes(side: string, store: ReadModelStore, docId: string, at: readonly number[]) {
  try {
    return await hashesAt(store, docId, at);
  } catch (err) {
    if (!isBadHistory(err)) throw err;
    throw new CollabError('ERR_CORRUPT', `${side}: ${(err as Error).message}`, { cause: err });
  }
}

async function compareDocument(live: ReadModelStore, shadow: ReadModelStore, docId: string): Promise<ShadowDocument> {
  const [l, s] = await Promise.all([live.getHead(docId), shadow.getHead(docId)]);
  try {
    if (l === undefined || s === undefined) {
      const [side, head, status] =
        l === undefined ? (['shadow', s, 'extra-in-shadow'] as const) : (['live', l, 'missing-in-shadow'] as const);
      if (head === undefined) return { docId, status: 'same' }; // listed by a side, since removed from both
      const [hash] = await sideHashes(side, side === 'live' ? live : shadow, docId, [head.version]);
      return { docId, status, [side]: { version: head.version, hash: hash! } };
    }
    const shared = Math.min(l.version, s.version);
    const [liveHashes, shadowHashes] = await Promise.all([
      sideHashes('live', live, docId, [shared, l.version]),
      sideHashes('shadow', shadow, docId, [shared, s.version]),
    ]);
    const at = { version: shared, live: liveHashes[0]!, shadow: shadowHashes[0]! };
    const status: ShadowStatus =
      at.live !== at.shadow ? 'text-differs' : l.version !== s.version ? 'version-differs' : 'same';
    return {
      docId,
      status,
      live: { version: l.version, hash: liveHashes[1]! },
      shadow: { version: s.version, hash: shadowHashes[1]! },
      shared: at,
    };
  } catch (err) {
    if (!isBadHistory(err)) throw err;
    return {
      docId,
      status: 'unreadable',
      ...(l === undefined ? {} : { live: { version: l.version, hash: '' } }),
      ...(s === undefined ? {} : { shadow: { version: s.version, hash: '' } }),
      error: err.message,
    };
  }
}

/** Compares every document either side lists, `concurrency` documents at a time. */
export async function diffShadow(
  live: ShadowSide,
  shadow: ShadowSide,
  options: { concurrency?: number } = {},
): Promise<ShadowReport> {
  const docIds = [...new Set([...live.docIds, ...shadow.docIds])].sort();
  const results: ShadowDocument[] = [];
  await runConcurrently(docIds, options.concurrency ?? 8, async (docId) => {
    results.push(await compareDocument(live.store, shadow.store, docId));
  });
  const differences = results.filter((d) => d.status !== 'same').sort((a, b) => (a.docId < b.docId ? -1 : 1));
  return { documents: docIds.length, same: results.length - differences.length, differences };
}

/** One line of the report for a document that differs. */
export function describeShadowDocument(d: ShadowDocument): string {
  const side = (name: string, s: SideState | undefined) =>
    s === undefined ? `${name} none` : `${name} v${s.version}${s.hash === '' ? '' : ` ${s.hash}`}`;
  switch (d.status) {
    case 'missing-in-shadow':
    case 'extra-in-shadow':
      return `${d.docId}: ${d.status} (${side('live', d.live)}, ${side('shadow', d.shadow)})`;
    case 'text-differs':
      return `${d.docId}: text-differs at version ${d.shared!.version}: live ${d.shared!.live}, shadow ${d.shared!.shadow} (heads: ${side('live', d.live)}, ${side('shadow', d.shadow)})`;
    case 'version-differs':
      return `${d.docId}: version-differs: ${side('live', d.live)}, ${side('shadow', d.shadow)}; the same text at version ${d.shared!.version} (${d.shared!.live})`;
    case 'unreadable':
      return `${d.docId}: unreadable: ${d.error ?? ''}`;
    case 'same':
      return `${d.docId}: same`;
  }
}
