/**
 * `collab media gc`: the references it finds (every version, however a reference was typed) and what it deletes.
 * The collector is checked against brute force (every version's whole text searched) on seeded random edits that
 * type references in pieces, split them and join them with deletes; the command runs as an operator runs it, on a
 * data folder whose log and media it must agree with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import { seededRandom, type OpLog } from '@collab/core';
import { applyOp, Doc, type TextOp } from '@collab/ot-text';
import { MEDIA_URI } from '@collab/protocol';
import { ReferencedMedia } from '../src/media/referenced-media.js';
import { createFolderMediaStore, MEDIA_FOLDER } from '../src/storage/media-folder.js';
import { cleanEnv, runCli } from './support/cli.js';
import { opRecord, referencingOps, sha, testBlob } from './support/media-gc.js';

describe('media garbage collection', function () {
  describe('ReferencedMedia (every version of every document)', function () {
    it('finds a reference typed one character at a time', function () {
      const found = new ReferencedMedia();
      const ref = `see ![x](media:${sha('a')}) here`;
      [...ref].forEach((ch, i) => found.add(opRecord('d', i + 1, i === 0 ? [ch] : [i, ch])));
      assert.deepEqual([...found.ids], [sha('a')]);
    });

    it('finds a reference formed by a delete that joins its halves, and one deleted since', function () {
      const found = new ReferencedMedia();
      const id = sha('b');
      const [left, right] = [`media:${id.slice(0, 30)}`, `${id.slice(30)})`];
      found.add(opRecord('d', 1, [`${left}XYZ${right}`]));
      assert.equal(found.ids.size, 0);
      found.add(opRecord('d', 2, [left.length, { d: 3 }])); // now "media:<id>)"
      found.add(opRecord('d', 3, [{ d: left.length + right.length }])); // and gone again
      assert.deepEqual([...found.ids], [id]);
    });

    it('does not take 63 hex digits for an id, nor mix documents', function () {
      const found = new ReferencedMedia();
      found.add(opRecord('a', 1, [`media:${sha('c').slice(0, 63)}`]));
      found.add(opRecord('b', 1, [sha('c').slice(63)])); // the last digit, in another document
      assert.equal(found.ids.size, 0);
    });

    it('agrees with brute force on seeded random edits that build, split and join references', function () {
      let referencesSeen = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const random = seededRandom(seed);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
        const ids = [sha(`x${seed}`), sha(`y${seed}`), sha(`z${seed}`)];
        const pieces = ids.flatMap((id) => [`media:${id}`, 'media:', id.slice(0, 20), id.slice(20), 'é👍', 'ab', ' ']);
        const found = new ReferencedMedia();
        const expected = new Set<string>();
        const texts = new Map<string, Doc>();
        const versions = new Map<string, number>();
        for (let step = 0; step < 150; step++) {
          const docId = pick(['p', 'q']);
          const text = texts.get(docId) ?? Doc.fromString('');
          let op: TextOp;
          if (text.length > 0 && random() < 0.35) {
            const at = Math.floor(random() * text.length);
            const length = 1 + Math.floor(random() * Math.min(8, text.length - at));
            op = at === 0 ? [{ d: length }] : [at, { d: length }];
          } else {
            const at = Math.floor(random() * (text.length + 1));
            const piece = pick(pieces);
            const points = [...piece]; // cut between code points: an op carries well-formed text
            const insert =
              random() < 0.5 ? piece : points.slice(0, Math.floor(random() * (points.length + 1))).join('');
            if (insert === '') continue;
            op = at === 0 ? [insert] : [at, insert];
          }
          const version = (versions.get(docId) ?? 0) + 1;
          versions.set(docId, version);
          const next = applyOp(text, op);
          texts.set(docId, next);
          found.add(opRecord(docId, version, op));
          for (const match of next.toString().matchAll(MEDIA_URI)) expected.add(match[1]!);
        }
        assert.deepEqual([...found.ids].sort(), [...expected].sort(), `seed ${seed}`);
        referencesSeen += expected.size;
      }
      assert.ok(referencesSeen >= 40, `only ${referencesSeen} references were formed: the test proves little`);
    });
  });

  describe('collab media gc on a data folder', function () {
    let dir: string;
    beforeEach(function () {
      dir = mkdtempSync(join(tmpdir(), 'collab-media-gc-'));
    });
    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    /** Append `ops` of one document to the data folder's log (as `collab serve` would have). */
    async function writeLog(docId: string, ops: TextOp[]): Promise<void> {
      const storage = await createSqliteStorage({ path: join(dir, 'collab.db'), partitionCount: 8 });
      const log: OpLog = storage.opLog;
      const writer = await log.openWriter(log.partitionFor(docId));
      await writer.append(ops.map((op, i) => ({ value: opRecord(docId, i + 1, op) })));
      await writer.close();
      await storage.close();
    }

    it('deletes only old blobs no version references; --dry-run deletes nothing', async function () {
      const store = createFolderMediaStore(join(dir, MEDIA_FOLDER));
      const [typed, removed, orphan, recent] = [
        testBlob('image/png'),
        testBlob('image/gif'),
        testBlob('image/jpeg'),
        testBlob('image/webp'),
      ];
      for (const blob of [typed, removed, orphan, recent]) await store.put('doc', blob.id, blob.bytes);
      // Uploaded two hours ago, except `recent`.
      const old = (Date.now() - 2 * 3_600_000) / 1000;
      for (const blob of [typed, removed, orphan]) {
        utimesSync(join(dir, MEDIA_FOLDER, 'blobs', blob.id), old, old);
        utimesSync(join(dir, MEDIA_FOLDER, 'links', blob.id, sha('doc')), old, old);
      }
      await writeLog('doc', referencingOps(typed.id, removed.id));

      const env = cleanEnv();
      const dry = await runCli(['media', 'gc', '--dry-run', '--grace-hours', '1', '--data-dir', dir], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(
        dry.stdout,
        `would delete ${orphan.id}\n4 image(s): 2 referenced, 1 unreferenced but uploaded within 1 h, 1 would delete\n`,
      );
      assert.equal((await store.list()).length, 4);

      const run = await runCli(['media', 'gc', '--grace-hours', '1', '--data-dir', dir], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^deleted ${orphan.id}\n4 image\\(s\\): 2 referenced, 1 .* 1 deleted\n$`));
      assert.deepEqual((await store.list()).map((e) => e.id).sort(), [typed.id, removed.id, recent.id].sort());
      assert.deepEqual(Buffer.from((await store.get('doc', typed.id))!), typed.bytes);
      assert.equal(await store.get('doc', orphan.id), undefined);

      // With no grace, the recent unreferenced one goes too; the referenced ones never do.
      const none = await runCli(['media', 'gc', '--grace-hours', '0', '--data-dir', dir], env);
      assert.equal(none.code, 0, none.stderr);
      assert.deepEqual((await store.list()).map((e) => e.id).sort(), [typed.id, removed.id].sort());
    });
  });
});
