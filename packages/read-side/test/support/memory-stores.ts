/**
 * Minimal in-memory ReadModelStore and SnapshotStore for unit tests of the read side: just enough of the port
 * semantics (ops by version, head = highest contiguous version, versionAt, history pages, latest <= max).
 */
import {
  CollabError,
  type DocHead,
  type HistoryEntry,
  type OpCommitted,
  type Page,
  type ReadModelStore,
  type SnapshotData,
  type SnapshotStore,
  type StoredCommentEvent,
} from '@collab/core';

export class MemoryReadModels implements ReadModelStore {
  readonly ops = new Map<string, Map<number, OpCommitted>>();
  calls = 0;

  async writeOps(ops: readonly OpCommitted[]): Promise<void> {
    for (const op of ops) {
      const byVersion = this.ops.get(op.docId) ?? new Map<number, OpCommitted>();
      byVersion.set(op.version, op);
      this.ops.set(op.docId, byVersion);
    }
  }

  async getOps(docId: string, from: number, to = Infinity, limit = Infinity): Promise<OpCommitted[]> {
    this.calls++;
    const all = [...(this.ops.get(docId)?.values() ?? [])].sort((a, b) => a.version - b.version);
    return all.filter((o) => o.version >= from && o.version < to).slice(0, limit);
  }

  async getHead(docId: string): Promise<DocHead | undefined> {
    const byVersion = this.ops.get(docId);
    if (byVersion === undefined) return undefined;
    let version = 0;
    while (byVersion.has(version + 1)) version++;
    const last = byVersion.get(version);
    return { docId, version, length: 0, lastUserId: last?.userId ?? '', updatedAt: last?.timestamp ?? 0 };
  }

  async versionAt(docId: string, time: number): Promise<number> {
    const head = (await this.getHead(docId))?.version ?? 0;
    let best = 0;
    for (let v = 1; v <= head; v++) if (this.ops.get(docId)!.get(v)!.timestamp <= time) best = v;
    return best;
  }

  async history(docId: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<HistoryEntry>> {
    const limit = options.limit ?? 50;
    let below = ((await this.getHead(docId))?.version ?? 0) + 1;
    if (options.cursor !== undefined) {
      below = Number(options.cursor.replace(/^c/, ''));
      if (!Number.isSafeInteger(below)) throw new CollabError('ERR_INVALID_ARGUMENT', 'bad cursor');
    }
    const items: HistoryEntry[] = [];
    for (let v = below - 1; v >= 1 && items.length < limit; v--) {
      const { version, userId, clientId, timestamp } = this.ops.get(docId)!.get(v)!;
      items.push({ version, userId, clientId, timestamp });
    }
    const last = items.at(-1);
    return last !== undefined && last.version > 1 ? { items, next: `c${last.version}` } : { items };
  }

  async userActivity(): Promise<never[]> {
    return [];
  }

  /** Keyed by "docId offset", like the real stores' (docId, version, offset). */
  readonly commentEvents = new Map<string, StoredCommentEvent>();

  async writeCommentEvents(events: readonly StoredCommentEvent[]): Promise<void> {
    for (const stored of events) this.commentEvents.set(`${stored.event.docId} ${stored.offset}`, stored);
  }

  async getCommentEvents(docId: string, fromVersion = 0, toVersion = Infinity): Promise<StoredCommentEvent[]> {
    return [...this.commentEvents.values()]
      .filter(({ event }) => event.docId === docId && event.version >= fromVersion && event.version <= toVersion)
      .sort((a, b) => a.event.version - b.event.version || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  }

  async close(): Promise<void> {}
}

export class MemorySnapshots implements SnapshotStore {
  readonly snapshots = new Map<string, SnapshotData>();
  /** Set to make every call fail like an unreachable S3. */
  down = false;

  private check(): void {
    if (this.down) throw new CollabError('ERR_UNAVAILABLE', 'snapshot store is down (test)');
  }

  async put(snapshot: SnapshotData): Promise<'created' | 'exists'> {
    this.check();
    const key = `${snapshot.docId}@${snapshot.version}`;
    if (this.snapshots.has(key)) return 'exists';
    this.snapshots.set(key, { ...snapshot });
    return 'created';
  }

  async latest(docId: string, maxVersion = Infinity): Promise<SnapshotData | undefined> {
    this.check();
    return [...this.snapshots.values()]
      .filter((s) => s.docId === docId && s.version <= maxVersion)
      .sort((a, b) => b.version - a.version)[0];
  }

  async get(docId: string, version: number): Promise<SnapshotData | undefined> {
    this.check();
    return this.snapshots.get(`${docId}@${version}`);
  }

  async list(docId: string) {
    this.check();
    return [...this.snapshots.values()]
      .filter((s) => s.docId === docId)
      .sort((a, b) => a.version - b.version)
      .map(({ docId: d, version, createdAt, text }) => ({
        docId: d,
        version,
        createdAt,
        size: Buffer.byteLength(text),
      }));
  }

  async delete(docId: string, version: number): Promise<void> {
    this.check();
    this.snapshots.delete(`${docId}@${version}`);
  }

  async close(): Promise<void> {}
}
