/**
 * The MediaStore contract: what every adapter (S3, the embedded data folder) must do, as mocha tests. Call it
 * inside a test file with a factory returning an empty store of its own (a fresh prefix or folder); the suite
 * closes every store it gets.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { MediaStore } from '@collab/core';

export type MediaStoreFactory = () => MediaStore | Promise<MediaStore>;

/** A small PNG-looking blob (the PNG signature, then random bytes) and its id. */
export function testImage(size = 64): { bytes: Uint8Array; id: string } {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  bytes.set(randomBytes(size - 8), 8);
  return { bytes, id: createHash('sha256').update(bytes).digest('hex') };
}

export function mediaStoreContract(name: string, factory: MediaStoreFactory): void {
  describe(`MediaStore contract: ${name}`, function () {
    let store: MediaStore;
    const docId = (): string => `doc-${randomUUID()}`;

    beforeEach(async function () {
      store = await factory();
    });
    afterEach(async function () {
      await store.close();
    });

    it('returns the bytes uploaded to a document, byte for byte', async function () {
      const doc = docId();
      const image = testImage(100_000);
      await store.put(doc, image.id, image.bytes);
      assert.deepEqual(await store.get(doc, image.id), image.bytes);
    });

    it('answers undefined for an unknown id, and for a blob uploaded only to another document', async function () {
      const [a, b] = [docId(), docId()];
      const image = testImage();
      assert.equal(await store.get(a, image.id), undefined);
      await store.put(a, image.id, image.bytes);
      assert.equal(await store.get(b, image.id), undefined);
      await store.put(b, image.id, image.bytes);
      assert.deepEqual(await store.get(b, image.id), image.bytes);
    });

    it('keeps one blob for the same bytes uploaded twice, and counts the documents it was uploaded to', async function () {
      const image = testImage();
      const before = Date.now();
      const doc = docId();
      await store.put(doc, image.id, image.bytes);
      await store.put(doc, image.id, image.bytes);
      await store.put(docId(), image.id, image.bytes);
      const entries = await store.list();
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.id, image.id);
      assert.equal(entries[0]?.links, 2);
      // Object stores keep whole seconds: the upload time is within a second of the clock.
      assert.ok((entries[0]?.lastUploadAt ?? 0) >= before - 1000, `${entries[0]?.lastUploadAt} < ${before}`);
    });

    it('deletes a blob and every link to it, and deleting it again does nothing', async function () {
      const [a, b] = [docId(), docId()];
      const [gone, kept] = [testImage(), testImage()];
      await store.put(a, gone.id, gone.bytes);
      await store.put(b, gone.id, gone.bytes);
      await store.put(a, kept.id, kept.bytes);
      await store.delete(gone.id);
      await store.delete(gone.id);
      assert.equal(await store.get(a, gone.id), undefined);
      assert.equal(await store.get(b, gone.id), undefined);
      assert.deepEqual(await store.get(a, kept.id), kept.bytes);
      assert.deepEqual(
        (await store.list()).map((e) => e.id),
        [kept.id],
      );
    });

    it('answers concurrent uploads of the same bytes to several documents with one blob and every link', async function () {
      const image = testImage(20_000);
      const docs = Array.from({ length: 6 }, docId);
      await Promise.all(docs.map((d) => store.put(d, image.id, image.bytes)));
      for (const d of docs) assert.deepEqual(await store.get(d, image.id), image.bytes);
      assert.equal((await store.list())[0]?.links, docs.length);
    });
  });
}
