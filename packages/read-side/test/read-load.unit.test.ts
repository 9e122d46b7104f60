/**
 * A replay never holds the event loop for more than one page, and reads beyond the concurrency limit wait or are
 * refused: counted, not timed. The attack over a real socket is in cli/test/read-api-load.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import type { OpCommitted } from '@collab/core';
import type { Authorize, DocumentReader, ReadRequest } from '../src/index.js';
import { createDocumentReader, handleReadRequest, limitConcurrency, nextTurn, ReadsBusy } from '../src/index.js';
import { generateHistory, rng } from '../src/testing/random-history.js';
import { MemoryReadModels, MemorySnapshots } from './support/memory-stores.js';

describe('DocumentReader: work per turn of the event loop', () => {
  const seed = 99;
  const history = generateHistory('doc', 2_000, rng(seed));

  /** Read models that count the ops they hand out since the last reset (synchronously, like SQLite). */
  class CountingReadModels extends MemoryReadModels {
    sinceReset = 0;
    override async getOps(docId: string, from: number, to: number, limit?: number): Promise<OpCommitted[]> {
      const ops = await super.getOps(docId, from, to, limit);
      this.sinceReset += ops.length;
      return ops;
    }
  }

  it('reads and folds at most one page between two pauses, and still gets the right text', async () => {
    const readModels = new CountingReadModels();
    await readModels.writeOps(history.ops);
    const perTurn: number[] = [];
    const pause = async () => {
      perTurn.push(readModels.sinceReset);
      readModels.sinceReset = 0;
      await nextTurn();
    };
    const reader = createDocumentReader({ readModels, snapshots: new MemorySnapshots(), pageSize: 100, pause });
    const { text } = await reader.atVersion('doc', 1_999);
    perTurn.push(readModels.sinceReset);
    assert.equal(text, history.texts[1_999], `seed ${seed}`);
    assert.equal(perTurn.length, 20, '2,000 ops in pages of 100: 19 pauses');
    assert.ok(Math.max(...perTurn) <= 100, `ops between pauses: ${perTurn.join(', ')}`);
  });

  it('by default, yields to the event loop between pages (an immediate queued meanwhile runs first)', async () => {
    const readModels = new MemoryReadModels();
    await readModels.writeOps(history.ops);
    const reader = createDocumentReader({ readModels, snapshots: new MemorySnapshots(), pageSize: 100 });
    const order: string[] = [];
    const read = reader.atVersion('doc', 2_000).then(() => order.push('replay'));
    setImmediate(() => order.push('other work'));
    await read;
    assert.deepEqual(order, ['other work', 'replay']);
  });
});

describe('limitConcurrency', () => {
  function gatedReader(): { reader: DocumentReader; started: string[]; release(docId: string): void } {
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const read = (docId: string) => {
      started.push(docId);
      return new Promise<{ docId: string; version: number; text: string }>((resolve) =>
        gates.set(docId, () => resolve({ docId, version: 1, text: docId })),
      );
    };
    const reader = {
      current: read,
      atVersion: read,
      atTime: async (docId: string) => ({ ...(await read(docId)), at: 0 }),
      history: async () => ({ items: [] }),
      stateAt: () => Promise.reject(new Error('unused')),
    } as unknown as DocumentReader;
    return { reader, started, release: (docId) => gates.get(docId)!() };
  }

  it('runs at most `concurrent` reads, queues `queued` more in order, and refuses the next with ReadsBusy', async () => {
    const g = gatedReader();
    const limited = limitConcurrency(g.reader, { concurrent: 2, queued: 1 });
    const a = limited.current('a');
    const b = limited.atVersion('b', 1);
    const c = limited.atTime('c', 0);
    await assert.rejects(limited.current('d'), (err: unknown) => err instanceof ReadsBusy && err.retriable);
    await nextTurn();
    assert.deepEqual(g.started, ['a', 'b']);
    g.release('a');
    assert.equal((await a).text, 'a');
    await nextTurn();
    assert.deepEqual(g.started, ['a', 'b', 'c'], 'the queued read takes the freed slot');
    g.release('b');
    g.release('c');
    await Promise.all([b, c]);
    // Everything finished: the full capacity is back.
    const again = [limited.current('e'), limited.current('f'), limited.current('g')];
    await nextTurn();
    assert.deepEqual(g.started.slice(3), ['e', 'f']);
    for (const id of ['e', 'f', 'g']) {
      await nextTurn();
      g.release(id);
    }
    await Promise.all(again);
  });

  it('frees the slot of a read that fails', async () => {
    const failing = {
      current: () => Promise.reject(new Error('store down')),
    } as unknown as DocumentReader;
    const limited = limitConcurrency(failing, { concurrent: 1, queued: 0 });
    await assert.rejects(limited.current('a'), /store down/);
    await assert.rejects(limited.current('b'), /store down/, 'not ReadsBusy: the slot was freed');
  });
});

describe('handleReadRequest: load shedding', () => {
  const get = (deps: Parameters<typeof handleReadRequest>[1]) =>
    handleReadRequest({ method: 'GET', path: '/v1/docs/doc', authorization: 'Bearer t' } as ReadRequest, deps);
  const reader = createDocumentReader({ readModels: new MemoryReadModels(), snapshots: new MemorySnapshots() });

  it('a principal over its rate gets 429 ERR_RATE_LIMITED with Retry-After', async () => {
    const authorize: Authorize = async () => {
      throw Object.assign(new Error('Too many read requests.'), { code: 'ERR_RATE_LIMITED', retryAfterMs: 1500 });
    };
    const res = await get({ reader, authorize });
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '2');
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'ERR_RATE_LIMITED');
  });

  it('reads beyond the queue get 503 ERR_UNAVAILABLE with Retry-After, and are not logged as failures', async () => {
    const busy = { current: () => Promise.reject(new ReadsBusy(2, 64)) } as unknown as DocumentReader;
    const errors: unknown[] = [];
    const res = await get({ reader: busy, authorize: async () => ({ userId: 'u' }), onError: (e) => errors.push(e) });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'ERR_UNAVAILABLE');
    assert.deepEqual(errors, []);
  });
});
