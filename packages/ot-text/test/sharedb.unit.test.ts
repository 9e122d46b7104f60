/**
 * The type registers with ShareDB and works there: two ShareDB clients on one in-memory backend edit the same
 * document concurrently and converge. ShareDB's in-memory store deep-copies snapshots through JSON, so this also
 * proves that a stored snapshot (a plain string, via toJSON) is accepted back.
 */
import assert from 'node:assert/strict';
import ShareDB from 'sharedb';
import type { TextOp } from '../src/index.js';
import { type } from '../src/index.js';

const promisify = (fn: (cb: (err?: unknown) => void) => void) => (): Promise<void> =>
  new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

/** Resolves once the ShareDB doc has reached `version` (it emits 'op' as remote ops arrive). */
function atVersion(
  doc: { version: number; on(e: string, f: () => void): void; off(e: string, f: () => void): void },
  version: number,
): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (doc.version < version) return;
      doc.off('op', check);
      resolve();
    };
    doc.on('op', check);
    check();
  });
}

describe('ShareDB compatibility', () => {
  it('registers as text-unicode and converges two concurrent ShareDB clients', async () => {
    ShareDB.types.register(type);
    const backend = new ShareDB();
    const a = backend.connect().get('docs', 'd1');
    const b = backend.connect().get('docs', 'd1');
    await promisify((cb) => a.create('hello world', type.uri, cb))();
    await promisify((cb) => b.subscribe(cb))();
    await promisify((cb) => a.subscribe(cb))();

    // Both edit the same position before either hears of the other.
    const submit = (doc: typeof a, op: TextOp): Promise<void> => promisify((cb) => doc.submitOp(op, cb))();
    await Promise.all([submit(a, [5, ', dear']), submit(b, [5, ' wide'])]);
    await Promise.all([atVersion(a, 3), atVersion(b, 3)]);

    const text = (doc: typeof a): string => String(doc.data);
    assert.equal(text(a), text(b));
    assert.ok(text(a) === 'hello, dear wide world' || text(a) === 'hello wide, dear world', text(a));
    assert.equal(a.version, 3);
    await new Promise<void>((resolve) => backend.close(resolve));
  });
});
