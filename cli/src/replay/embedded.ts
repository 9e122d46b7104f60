/**
 * The embedded replay: the data folder's op log projected into the read-model tables of a fresh SQLite file (or
 * of the live file, after clearing them), with projection-service's replay(), then compared with live ones.
 *
 * In place is for a stopped server: the running projector would keep writing heads while they are cleared.
 */
import { existsSync } from 'node:fs';
import { createSqliteStorage, type SqliteStorage } from '@collab/adapter-sqlite';
import type { DocHead, Offset, ReadModelStore } from '@collab/core';
import { replay, type ReplayProgress, type ReplayResult } from '@collab/projection-service';
import type { EmbeddedConfig } from '../embedded-config.js';
import { openEmbeddedStorage } from '../storage/embedded.js';
import { ensurePrivateFile } from '../storage/private-files.js';
import { compareStores, diffHeads, type StoreComparison } from './compare.js';
import { diffShadow, type ShadowReport } from './shadow-diff.js';

export interface EmbeddedReplayOptions {
  config: EmbeddedConfig;
  target: { kind: 'file'; path: string } | { kind: 'in-place' };
  /** Another database file to compare with; default the live one (in place: its heads before clearing). */
  compareWith?: string;
  from?: readonly Offset[];
  /** Report as a shadow replay (shadow-diff.ts: versions and text hashes) instead of comparing rows. */
  shadow?: boolean;
  onProgress?: (p: ReplayProgress) => void;
}

export interface EmbeddedReplayResult {
  replay: ReplayResult;
  target: string;
  comparedWith: string;
  comparison: { kind: 'rows'; rows: StoreComparison } | { kind: 'shadow'; shadow: ShadowReport };
}

const docIdsOf = (storage: SqliteStorage): string[] =>
  storage.database.prepare('SELECT doc_id FROM rm_heads').pluck().all() as string[];

/** A store that remembers which documents were written: with the live heads, the set to compare. */
function recording(store: ReadModelStore, seen: Set<string>): ReadModelStore {
  return {
    writeOps: async (ops) => {
      for (const op of ops) seen.add(op.docId);
      await store.writeOps(ops);
    },
    getOps: (...a) => store.getOps(...a),
    getHead: (...a) => store.getHead(...a),
    versionAt: (...a) => store.versionAt(...a),
    history: (...a) => store.history(...a),
    userActivity: (...a) => store.userActivity(...a),
    writeCommentEvents: (...a) => store.writeCommentEvents(...a),
    getCommentEvents: (...a) => store.getCommentEvents(...a),
    close: () => store.close(),
  };
}

export async function replayEmbedded(options: EmbeddedReplayOptions): Promise<EmbeddedReplayResult> {
  const { config, target } = options;
  const live = await openEmbeddedStorage(config);
  const opened: SqliteStorage[] = [live];
  try {
    let rebuilt: SqliteStorage;
    let headsBefore: Map<string, DocHead> | undefined;
    if (target.kind === 'file') {
      if (existsSync(target.path)) throw new Error(`${target.path} exists; a replay writes into a fresh file`);
      ensurePrivateFile(target.path);
      rebuilt = await createSqliteStorage({ path: target.path, partitionCount: config.partitions });
      opened.push(rebuilt);
    } else {
      rebuilt = live;
      headsBefore = new Map();
      for (const docId of docIdsOf(live)) {
        const head = await live.readModels.getHead(docId);
        if (head !== undefined) headsBefore.set(docId, head);
      }
      live.database.transaction(() => live.database.exec('DELETE FROM rm_ops; DELETE FROM rm_heads;')).immediate();
    }

    const seen = new Set<string>();
    const result = await replay({
      log: live.opLog,
      store: recording(rebuilt.readModels, seen),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });

    let comparison: EmbeddedReplayResult['comparison'];
    let comparedWith: string;
    if (headsBefore !== undefined && options.compareWith === undefined) {
      comparedWith = `${live.path} before clearing`;
      comparison = { kind: 'rows', rows: await compareWithHeads(headsBefore, rebuilt.readModels, seen) };
    } else {
      if (options.compareWith !== undefined && !existsSync(options.compareWith)) {
        throw new Error(`--compare-with ${options.compareWith}: no such database file`);
      }
      const other =
        options.compareWith === undefined
          ? live
          : await createSqliteStorage({ path: options.compareWith, partitionCount: config.partitions });
      if (other !== live) opened.push(other);
      comparedWith = other.path;
      comparison =
        options.shadow === true
          ? {
              kind: 'shadow',
              shadow: await diffShadow(
                { store: other.readModels, docIds: docIdsOf(other) },
                { store: rebuilt.readModels, docIds: docIdsOf(rebuilt) },
              ),
            }
          : {
              kind: 'rows',
              rows: await compareStores([...docIdsOf(other), ...seen], other.readModels, rebuilt.readModels, {
                ops: true,
              }),
            };
    }
    return { replay: result, target: target.kind === 'file' ? target.path : live.path, comparedWith, comparison };
  } finally {
    for (const storage of opened.reverse()) await storage.close();
  }
}

async function compareWithHeads(
  before: Map<string, DocHead>,
  rebuilt: ReadModelStore,
  seen: Set<string>,
): Promise<StoreComparison> {
  const docIds = [...new Set([...before.keys(), ...seen])].sort();
  const differences = [];
  for (const docId of docIds) {
    const reason = diffHeads(before.get(docId), await rebuilt.getHead(docId));
    if (reason !== undefined) differences.push({ docId, reason });
  }
  return { documents: docIds.length, ops: 0, differences };
}
