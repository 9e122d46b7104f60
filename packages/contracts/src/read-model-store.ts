/**
 * The ReadModelStore contract: what every adapter (Cassandra, SQLite, in-memory) must do, as mocha tests. Call it
 * inside a test file with a factory returning a ready store and its cleanup; the suite calls both around every
 * test. Each test uses its own random document and user ids, so one database can serve the whole suite.
 *
 * The documents here have up to 23 versions. An adapter that splits a document's ops into partitions by version
 * should be built with a tiny partition size (e.g. 4) so that ranges, limits and pages cross partition
 * boundaries. Timestamps step 7 hours, so every document spans several UTC days.
 *
 * Semantics pinned down here beyond the port's comments: the head moves only through consecutive versions (with
 * ops 1, 2 and 4 written it stays at 2 until 3 arrives; that is what keeps its length right), and getOps without
 * `to` stops at the head.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { isCollabError } from '@collab/core';
import type { HistoryEntry, OpCommitted, ReadModelStore, StoredCommentEvent } from '@collab/core';
import { type as textType } from '@collab/ot-text';
import type { TextOp } from '@collab/ot-text';

export type ReadModelStoreFactory = () => Promise<{ store: ReadModelStore; cleanup(): Promise<void> }>;

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const STEP_MS = 7 * 3_600_000;
const codePoints = (s: string): number => [...s].length;

/** A document's history: ops with emoji inserts, {d: "text"} and {d: N} deletes, and its text at every version. */
function makeHistory(docId: string, count: number, userIds: string[], times?: number[]) {
  const ops: OpCommitted[] = [];
  const texts = [''];
  let text = '';
  for (let v = 1; v <= count; v++) {
    const chars = [...text];
    const mid = Math.floor(chars.length / 2);
    const at = (n: number, rest: TextOp): TextOp => (n > 0 ? [n, ...rest] : rest);
    let op: TextOp;
    if (v % 4 === 2 && chars.length >= 3) op = at(mid - 1, [{ d: chars.slice(mid - 1, mid + 1).join('') }]);
    else if (v % 4 === 3 && chars.length >= 1) op = at(mid, [{ d: 1 }]);
    else if (v % 4 === 0) op = at(chars.length, [`v${v} 👋🏽`]);
    else op = at(mid, [`é😀${v}中`]);
    text = textType.serialize(textType.apply(text, op));
    texts.push(text);
    ops.push({
      docId,
      version: v,
      op,
      baseVersion: Math.max(0, v - 1 - (v % 3)),
      clientId: `client-${v % 2}`,
      seq: 100 + v,
      userId: userIds[v % userIds.length] as string,
      timestamp: times?.[v - 1] ?? T0 + v * STEP_MS,
    });
  }
  return { ops, texts };
}

const withoutDocId = <T extends { docId: string }>(x: T): Omit<T, 'docId'> => {
  const { docId: _docId, ...rest } = x;
  return rest;
};

async function allHistory(store: ReadModelStore, docId: string, limit: number) {
  const pages: { items: HistoryEntry[]; next?: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.history(docId, cursor === undefined ? { limit } : { limit, cursor });
    pages.push(page);
    cursor = page.next;
    assert.ok(pages.length <= 100, 'history does not end');
  } while (cursor !== undefined);
  return pages;
}

export function readModelStoreContract(name: string, factory: ReadModelStoreFactory): void {
  describe(`ReadModelStore contract: ${name}`, function () {
    let store: ReadModelStore;
    let cleanup: () => Promise<void>;
    const id = (kind: string): string => `${kind}-${randomUUID()}`;

    beforeEach(async function () {
      ({ store, cleanup } = await factory());
    });
    afterEach(async function () {
      await cleanup();
    });

    /** Everything readable about a document, with the docId taken out so two documents can be compared. */
    const view = async (docId: string, count: number) => {
      const head = await store.getHead(docId);
      return {
        head: head === undefined ? undefined : withoutDocId(head),
        ops: (await store.getOps(docId, 0)).map(withoutDocId),
        history: (await allHistory(store, docId, 5)).flatMap((p) => p.items),
        versionAt: await Promise.all(
          Array.from({ length: count + 2 }, (_, i) => store.versionAt(docId, T0 + i * STEP_MS + 1)),
        ),
      };
    };

    it('returns written ops in version order with every field intact (emoji, {d: "text"}, {d: N})', async function () {
      const docId = id('doc');
      const { ops } = makeHistory(docId, 23, [id('user')]);
      assert.ok(ops.some((o) => o.op.some((c) => typeof c === 'object' && typeof c.d === 'string')));
      assert.ok(ops.some((o) => o.op.some((c) => typeof c === 'object' && typeof c.d === 'number')));
      await store.writeOps(ops);
      assert.deepEqual(await store.getOps(docId, 1), ops);
    });

    it('sets the head to the last version, the length of its text in code points, its user and time', async function () {
      const docId = id('doc');
      const user = id('user');
      const { ops, texts } = makeHistory(docId, 23, [user]);
      await store.writeOps(ops);
      const last = ops[22] as OpCommitted;
      assert.deepEqual(await store.getHead(docId), {
        docId,
        version: 23,
        length: codePoints(texts[23] as string),
        lastUserId: user,
        updatedAt: last.timestamp,
      });
    });

    it('ends up the same whether ops are written once, twice, out of order, overlapping or concurrently', async function () {
      const users = [id('user'), id('user')];
      const reference = makeHistory(id('doc'), 23, users);
      await store.writeOps(reference.ops);
      const docId = id('doc');
      const { ops } = makeHistory(docId, 23, users);
      const range = (from: number, to: number) => ops.slice(from - 1, to);
      for (const o of [...ops].reverse().slice(0, 8)) await store.writeOps([o]); // 23..16, one by one
      await store.writeOps([...range(1, 10), ...range(5, 12), ...range(1, 3)]); // duplicates inside one call
      await Promise.all([store.writeOps(range(5, 15)), store.writeOps(range(10, 23)), store.writeOps(range(1, 23))]);
      await store.writeOps(ops);
      assert.deepEqual(await view(docId, 23), await view(reference.ops[0]!.docId, 23));
      // No duplicate activity rows either: 23 edits by two users.
      const activity = [
        ...(await store.userActivity(users[0]!, { limit: 100 })),
        ...(await store.userActivity(users[1]!, { limit: 100 })),
      ];
      assert.equal(activity.filter((a) => a.docId === docId).length, 23);
    });

    it('only moves the head forward: replaying old ops leaves it, new ones move it with the right length', async function () {
      const docId = id('doc');
      const { ops, texts } = makeHistory(docId, 12, [id('user')]);
      await store.writeOps(ops.slice(0, 10));
      const head10 = await store.getHead(docId);
      assert.equal(head10?.version, 10);
      assert.equal(head10?.length, codePoints(texts[10] as string));
      await store.writeOps(ops.slice(0, 5));
      await store.writeOps([ops[2]!]);
      assert.deepEqual(await store.getHead(docId), head10);
      await store.writeOps(ops.slice(8, 12));
      const head12 = await store.getHead(docId);
      assert.equal(head12?.version, 12);
      assert.equal(head12?.length, codePoints(texts[12] as string));
    });

    it('keeps the head before a gap and moves it over the gap once filled, with the right length', async function () {
      const docId = id('doc');
      const { ops, texts } = makeHistory(docId, 7, [id('user')]);
      await store.writeOps(ops.slice(0, 3));
      await store.writeOps(ops.slice(4, 7));
      assert.equal((await store.getHead(docId))?.version, 3);
      assert.deepEqual(await store.getOps(docId, 0), ops.slice(0, 3));
      await store.writeOps([ops[3]!]);
      const head = await store.getHead(docId);
      assert.equal(head?.version, 7);
      assert.equal(head?.length, codePoints(texts[7] as string));
    });

    it('agrees on the head when concurrent writers start from different heads', async function () {
      for (let round = 0; round < 3; round++) {
        const docId = id('doc');
        const { ops, texts } = makeHistory(docId, 23, [id('user')]);
        await Promise.all([
          store.writeOps(ops.slice(0, 12)),
          store.writeOps(ops.slice(5, 20)),
          store.writeOps(ops.slice(14)),
        ]);
        const head = await store.getHead(docId);
        assert.equal(head?.version, 23, `round ${round}`);
        assert.equal(head?.length, codePoints(texts[23] as string), `round ${round}`);
      }
    });

    it('getOps honours from <= version < to and limit, across partition boundaries', async function () {
      const docId = id('doc');
      const { ops } = makeHistory(docId, 23, [id('user')]);
      await store.writeOps(ops);
      for (const from of [0, 1, 3, 4, 5, 8, 9, 22, 23, 24]) {
        for (const to of [undefined, 1, 4, 5, 9, 13, 23, 24, 99]) {
          for (const limit of [undefined, 1, 5]) {
            const expected = ops.filter((o) => o.version >= from && o.version < (to ?? 24)).slice(0, limit);
            const got = await store.getOps(docId, from, to, limit);
            assert.deepEqual(
              got.map((o) => o.version),
              expected.map((o) => o.version),
              `getOps(${from}, ${to}, ${limit})`,
            );
          }
        }
      }
    });

    it('versionAt: 0 before the first op, the last version at or before the time, the head after the last op', async function () {
      const docId = id('doc');
      const { ops } = makeHistory(docId, 23, [id('user')]);
      await store.writeOps(ops);
      assert.equal(await store.versionAt(docId, T0), 0);
      assert.equal(await store.versionAt(docId, ops[0]!.timestamp - 1), 0);
      for (const o of ops) {
        assert.equal(await store.versionAt(docId, o.timestamp), o.version, `at the time of ${o.version}`);
        assert.equal(await store.versionAt(docId, o.timestamp + STEP_MS - 1), o.version, `just before the next`);
      }
      assert.equal(await store.versionAt(docId, T0 + 365 * 86_400_000), 23);
    });

    it('versionAt looks back over idle days and takes the highest version among equal times', async function () {
      const docId = id('doc');
      const day = 86_400_000;
      const times = [T0, T0 + 1000, T0 + 1000, T0 + 10 * day, T0 + 10 * day + 5];
      await store.writeOps(makeHistory(docId, 5, [id('user')], times).ops);
      assert.equal(await store.versionAt(docId, T0 + 1000), 3);
      assert.equal(await store.versionAt(docId, T0 + 5 * day), 3);
      assert.equal(await store.versionAt(docId, T0 + 10 * day + 4), 4);
      assert.equal(await store.versionAt(docId, T0 + 11 * day), 5);
    });

    it('pages history newest first with a cursor, without duplicates or gaps', async function () {
      const docId = id('doc');
      const { ops } = makeHistory(docId, 23, [id('user'), id('user')]);
      await store.writeOps(ops);
      const expected = [...ops].reverse().map((o) => ({
        version: o.version,
        userId: o.userId,
        clientId: o.clientId,
        timestamp: o.timestamp,
      }));
      for (const limit of [1, 4, 5, 22, 23, 50]) {
        const pages = await allHistory(store, docId, limit);
        assert.deepEqual(
          pages.flatMap((p) => p.items),
          expected,
          `limit ${limit}`,
        );
        assert.equal(pages.length, Math.ceil(23 / limit), `limit ${limit}: no empty last page`);
        for (const page of pages.slice(0, -1)) assert.equal(page.items.length, limit);
      }
    });

    it('rejects a history cursor it did not make with ERR_INVALID_ARGUMENT', async function () {
      await assert.rejects(store.history(id('doc'), { cursor: 'not-a-cursor' }), (err) =>
        isCollabError(err, 'ERR_INVALID_ARGUMENT'),
      );
    });

    it("lists a user's edits across documents and days newest first, up to the limit", async function () {
      const user = id('user');
      const other = id('user');
      const docA = makeHistory(id('doc'), 9, [user, other]);
      const docB = makeHistory(id('doc'), 9, [user], ops9Times());
      await store.writeOps([...docA.ops, ...docB.ops]);
      const expected = [...docA.ops, ...docB.ops]
        .filter((o) => o.userId === user)
        .sort((a, b) => b.timestamp - a.timestamp)
        .map((o) => ({ userId: user, docId: o.docId, version: o.version, timestamp: o.timestamp }));
      assert.deepEqual(await store.userActivity(user, { limit: 100 }), expected);
      assert.deepEqual(await store.userActivity(user, { limit: 3 }), expected.slice(0, 3));
      assert.deepEqual(await store.userActivity(id('user'), { limit: 10 }), []);
    });

    it('knows nothing about an unknown document', async function () {
      const docId = id('doc');
      assert.equal(await store.getHead(docId), undefined);
      assert.deepEqual(await store.getOps(docId, 0), []);
      assert.deepEqual(await store.getOps(docId, 1, 10), []);
      assert.deepEqual(await store.history(docId), { items: [] });
      assert.equal(await store.versionAt(docId, Date.now()), 0);
      assert.deepEqual(await store.getCommentEvents(docId), []);
    });

    it('keeps comment events once per (docId, version, offset), in log order, by version range', async function () {
      const docId = id('doc');
      const other = id('doc');
      const event = (doc: string, version: number, offset: bigint, text: string): StoredCommentEvent => ({
        offset,
        event: {
          docId: doc,
          version,
          userId: 'u',
          timestamp: T0 + version,
          body: { kind: 'replied', threadId: 't', messageId: `m${offset}`, text },
        },
      });
      // Offsets grow with the log; two events at version 3; a large offset (past 2^32) and an emoji.
      const events = [
        event(docId, 1, 10n, 'first'),
        event(docId, 3, 14n, 'b 😀'),
        event(docId, 3, 12n, 'a'),
        event(docId, 7, 5_000_000_000n, 'late'),
      ];
      const inLogOrder = [events[0], events[2], events[1], events[3]];
      // Written out of order, and again (a redelivery), with another document's event beside them.
      await store.writeCommentEvents([events[3]!, events[1]!, event(other, 3, 13n, 'other')]);
      await store.writeCommentEvents(events);
      await store.writeCommentEvents([events[2]!]);
      assert.deepEqual(await store.getCommentEvents(docId), inLogOrder);
      assert.deepEqual(await store.getCommentEvents(docId, 3), inLogOrder.slice(1));
      assert.deepEqual(await store.getCommentEvents(docId, 0, 3), inLogOrder.slice(0, 3));
      assert.deepEqual(await store.getCommentEvents(docId, 4, 6), []);
      assert.deepEqual(await store.getCommentEvents(other), [event(other, 3, 13n, 'other')]);
      await assert.rejects(store.writeCommentEvents([{ ...events[0]!, offset: -1n }]), (err: unknown) =>
        isCollabError(err, 'ERR_INVALID_ARGUMENT'),
      );
    });
  });
}

/** Times interleaved with the default ones (offset by half a step), so two documents' edits alternate. */
const ops9Times = (): number[] => Array.from({ length: 9 }, (_, i) => T0 + (i + 1) * STEP_MS + STEP_MS / 2);
