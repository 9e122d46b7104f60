/** What the contract cannot say: S3 specifics (multipart, conditional complete, checksums, failures, layout). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { applyRetention, isCollabError, type SnapshotStore } from '@collab/core';
import { createS3SnapshotStore, docPrefix, ensureBucket, latestPointerKey, snapshotKey } from '../src/index.js';
import { putMultipartIfAbsent } from '../src/multipart.js';
import { encodeSnapshot } from '../src/object-format.js';
import { silentLogger } from '@collab/core';
import { createTestBucket, type TestBucket } from './test-bucket.js';

const MiB = 1024 * 1024;

/** A text of at least `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte code points. */
const bigText = (bytes: number): string => {
  const unit = 'plain ascii line, ünïcödé, 中文字符, emoji 👩‍💻🚀\n';
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
};

describe('@collab/adapter-s3 specifics', function () {
  let tb: TestBucket;
  let store: SnapshotStore;
  let prefix: string;
  const docId = (): string => `doc-${randomUUID()}`;

  before(async function () {
    tb = await createTestBucket();
  });
  after(async function () {
    await tb?.remove();
  });
  beforeEach(function () {
    prefix = `specifics-${randomUUID()}/`;
    store = createS3SnapshotStore({ client: tb.client, bucket: tb.bucket, prefix, partSizeBytes: 5 * MiB });
  });
  afterEach(async function () {
    await store.close();
  });

  const uploadsInProgress = async (): Promise<number> =>
    (await tb.client.send(new ListMultipartUploadsCommand({ Bucket: tb.bucket, Prefix: prefix }))).Uploads?.length ?? 0;

  describe('large snapshots (multipart, > 10 MiB)', function () {
    const text = bigText(10.5 * MiB);

    it('round-trips through a multipart upload of 5 MiB parts', async function () {
      const id = docId();
      assert.equal(await store.put({ docId: id, version: 42, text, createdAt: 1 }), 'created');
      const head = await tb.client.send(new HeadObjectCommand({ Bucket: tb.bucket, Key: snapshotKey(prefix, id, 42) }));
      assert.match(head.ETag ?? '', /-3"?$/, 'a multipart ETag ends in -<number of parts>');
      const back = await store.latest(id);
      assert.equal(back?.text, text);
      assert.deepEqual((await store.list(id))[0]?.size, Buffer.byteLength(text));
    });

    it("two concurrent multipart puts of one key: exactly one 'created', no upload left behind", async function () {
      const id = docId();
      const outcomes = await Promise.all([
        store.put({ docId: id, version: 1, text, createdAt: 1 }),
        store.put({ docId: id, version: 1, text: text + 'B', createdAt: 2 }),
      ]);
      assert.deepEqual([...outcomes].sort(), ['created', 'exists']);
      const winner = outcomes[0] === 'created' ? text : text + 'B';
      assert.equal((await store.get(id, 1))?.text, winner);
      assert.equal(await uploadsInProgress(), 0);
    });

    it('CompleteMultipartUpload with If-None-Match: * refuses to overwrite an existing object', async function () {
      // Calls the multipart writer directly, past the store's HEAD short-cut: the condition itself is tested.
      const id = docId();
      assert.equal(await store.put({ docId: id, version: 1, text: 'small one', createdAt: 1 }), 'created');
      const key = snapshotKey(prefix, id, 1);
      const target = { client: tb.client, bucket: tb.bucket, key, partSizeBytes: 5 * MiB, concurrency: 2 };
      const encoded = encodeSnapshot({ docId: id, version: 1, text, createdAt: 2 });
      assert.equal(await putMultipartIfAbsent({ ...target, logger: silentLogger }, encoded), 'exists');
      assert.equal((await store.get(id, 1))?.text, 'small one');
      assert.equal(await uploadsInProgress(), 0, 'the refused upload was aborted');
    });
  });

  describe('checksums', function () {
    const overwrite = async (id: string, version: number, body: string, metadata?: Record<string, string>) => {
      const Key = snapshotKey(prefix, id, version);
      const current = await tb.client.send(new HeadObjectCommand({ Bucket: tb.bucket, Key }));
      await tb.client.send(
        new PutObjectCommand({ Bucket: tb.bucket, Key, Body: body, Metadata: metadata ?? current.Metadata }),
      );
    };

    it('a body that does not match its SHA-256 is ERR_CORRUPT on get and latest', async function () {
      const id = docId();
      await store.put({ docId: id, version: 1, text: 'hello', createdAt: 1 });
      await overwrite(id, 1, 'jello'); // same length, same metadata, different bytes
      for (const read of [() => store.get(id, 1), () => store.latest(id)]) {
        await assert.rejects(read(), (err) => isCollabError(err, 'ERR_CORRUPT') && /SHA-256/.test(err.message));
      }
    });

    it('an object without our metadata is ERR_CORRUPT, not a snapshot', async function () {
      const id = docId();
      await store.put({ docId: id, version: 1, text: 'hello', createdAt: 1 });
      await overwrite(id, 1, 'hello', {});
      await assert.rejects(store.get(id, 1), (err) => isCollabError(err, 'ERR_CORRUPT'));
    });

    it('a truncated body is ERR_CORRUPT', async function () {
      const id = docId();
      await store.put({ docId: id, version: 1, text: 'hello', createdAt: 1 });
      await overwrite(id, 1, 'hell');
      await assert.rejects(store.get(id, 1), (err) => isCollabError(err, 'ERR_CORRUPT') && /bytes/.test(err.message));
    });
  });

  describe('key layout', function () {
    it('writes text/plain bodies at the documented keys', async function () {
      const id = docId();
      await store.put({ docId: id, version: 5, text: 'five', createdAt: 1 });
      const Key = `${prefix}docs/${encodeURIComponent(id)}/snapshots/${String(Number.MAX_SAFE_INTEGER - 5).padStart(16, '0')}-v5`;
      const object = await tb.client.send(new GetObjectCommand({ Bucket: tb.bucket, Key }));
      assert.equal(await object.Body?.transformToString(), 'five');
      assert.match(object.ContentType ?? '', /^text\/plain; ?charset=utf-8$/i); // S3Proxy drops the space
    });

    it('ignores foreign objects under a document prefix', async function () {
      const id = docId();
      await store.put({ docId: id, version: 5, text: 'five', createdAt: 1 });
      for (const name of ['README', '0000000000000000-vx', '']) {
        const Key = `${docPrefix(prefix, id)}${name}`;
        await tb.client.send(new PutObjectCommand({ Bucket: tb.bucket, Key: Key + 'junk', Body: 'not a snapshot' }));
      }
      assert.equal((await store.latest(id))?.text, 'five');
      assert.deepEqual(
        (await store.list(id)).map((m) => m.version),
        [5],
      );
    });

    it('finds latest(maxVersion) among many snapshots with one LIST page', async function () {
      const id = docId();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.put({ docId: id, version: i * 3, text: `v${i * 3}`, createdAt: 1 })),
      );
      assert.equal((await store.latest(id, 100))?.version, 99);
      assert.equal((await store.latest(id, 58))?.version, 57);
      const page = await tb.client.send(
        new ListObjectsV2Command({
          Bucket: tb.bucket,
          Prefix: docPrefix(prefix, id),
          StartAfter: snapshotKey(prefix, id, 59),
          MaxKeys: 1,
        }),
      );
      assert.equal(page.Contents?.[0]?.Key, snapshotKey(prefix, id, 57), 'newest-first order on the server itself');
    });
  });

  describe('the latest pointer', function () {
    const pointer = async (id: string): Promise<unknown> => {
      const object = await tb.client.send(
        new GetObjectCommand({ Bucket: tb.bucket, Key: latestPointerKey(prefix, id) }),
      );
      return JSON.parse((await object.Body?.transformToString()) ?? '');
    };
    const setPointer = (id: string, body: string) =>
      tb.client.send(new PutObjectCommand({ Bucket: tb.bucket, Key: latestPointerKey(prefix, id), Body: body }));
    /** A store whose client counts the commands it sends, by name. */
    const counting = () => {
      const counts = new Map<string, number>();
      const send = tb.client.send.bind(tb.client) as (command: object) => Promise<unknown>;
      const client = Object.create(tb.client) as typeof tb.client;
      client.send = ((command: object) => {
        const name = command.constructor.name;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return send(command);
      }) as typeof tb.client.send;
      return { counts, store: createS3SnapshotStore({ client, bucket: tb.bucket, prefix }) };
    };

    it('moves forward only, and latest() then needs two GETs and no LIST', async function () {
      const id = docId();
      for (const v of [5, 20, 12]) await store.put({ docId: id, version: v, text: `v${v}`, createdAt: 1 });
      assert.deepEqual(await pointer(id), { format: 1, version: 20 });
      const { counts, store: counted } = counting();
      assert.equal((await counted.latest(id))?.text, 'v20');
      assert.equal((await counted.latest(id, 25))?.text, 'v20');
      assert.deepEqual(Object.fromEntries(counts), { GetObjectCommand: 4 });
      await counted.close();
    });

    it('concurrent puts of one store leave it on the highest version (they take turns)', async function () {
      const id = docId();
      const versions = Array.from({ length: 24 }, (_, i) => (i * 7) % 24);
      await Promise.all(versions.map((v) => store.put({ docId: id, version: v, text: `v${v}`, createdAt: 1 })));
      assert.deepEqual(await pointer(id), { format: 1, version: 23 });
    });

    it('a put whose pointer moved since it read it is refused by If-Match, re-reads, and never moves it back', async function () {
      // Another process's store moves the pointer to 30 between this put's read of it (at 5) and its write (20).
      // The steps are ordered on purpose: S3Proxy's conditional writes are a check and then a write, so two truly
      // simultaneous ones can both pass — real S3 refuses one (see packages/s3/README.md).
      const id = docId();
      await store.put({ docId: id, version: 5, text: 'v5', createdAt: 1 });
      const key = latestPointerKey(prefix, id);
      const send = tb.client.send.bind(tb.client) as (command: object) => Promise<unknown>;
      let pointerWrites = 0;
      const client = Object.create(tb.client) as typeof tb.client;
      client.send = (async (command: object) => {
        if (command instanceof PutObjectCommand && command.input.Key === key) {
          if (pointerWrites++ === 0) await setPointer(id, JSON.stringify({ format: 1, version: 30 }));
        }
        return send(command);
      }) as typeof tb.client.send;
      const racing = createS3SnapshotStore({ client, bucket: tb.bucket, prefix });
      await racing.put({ docId: id, version: 20, text: 'v20', createdAt: 1 });
      await racing.close();
      assert.deepEqual(await pointer(id), { format: 1, version: 30 });
      assert.equal(pointerWrites, 1, 'its If-Match failed; the re-read found 30 and it stopped');
    });

    it('a pointer above maxVersion, dangling, unreadable or missing: the listing answers', async function () {
      const id = docId();
      for (const v of [5, 20]) await store.put({ docId: id, version: v, text: `v${v}`, createdAt: 1 });
      assert.equal((await store.latest(id, 19))?.version, 5, 'above maxVersion');
      await store.delete(id, 20);
      assert.equal((await store.latest(id))?.version, 5, 'dangling');
      await setPointer(id, 'not json');
      assert.equal((await store.latest(id))?.version, 5, 'unreadable');
      await tb.client.send(new PutObjectCommand({ Bucket: tb.bucket, Key: latestPointerKey(prefix, id), Body: '{}' }));
      assert.equal((await store.latest(id))?.version, 5, 'not ours');
    });

    it('a stale pointer (lost race, crash before its PUT) gives an older valid snapshot; the next put repairs it', async function () {
      const id = docId();
      for (const v of [5, 20]) await store.put({ docId: id, version: v, text: `v${v}`, createdAt: 1 });
      await setPointer(id, JSON.stringify({ format: 1, version: 5 }));
      assert.equal((await store.latest(id))?.version, 5);
      assert.equal(await store.put({ docId: id, version: 20, text: 'v20', createdAt: 1 }), 'exists');
      assert.equal((await store.latest(id))?.version, 20, "a retried put ('exists') moves it too");
    });
  });

  describe('retention and provisioning', function () {
    it('applyRetention deletes what the plan drops', async function () {
      const id = docId();
      for (let v = 1; v <= 10; v++) await store.put({ docId: id, version: v * 10, text: `${v}`, createdAt: v });
      const plan = await applyRetention(store, id, { keepLatest: 2, keepEveryNth: 50 });
      assert.deepEqual(
        (await store.list(id)).map((m) => m.version),
        plan.keep.map((m) => m.version),
      );
      assert.deepEqual(
        plan.keep.map((m) => m.version),
        [40, 90, 100],
      );
    });

    it('ensureBucket is idempotent, also when racing itself', async function () {
      const bucket = `collab-test-${randomUUID().slice(0, 13)}`;
      await Promise.all([ensureBucket(tb.client, bucket), ensureBucket(tb.client, bucket)]);
      await ensureBucket(tb.client, bucket);
      const { DeleteBucketCommand } = await import('@aws-sdk/client-s3');
      await tb.client.send(new DeleteBucketCommand({ Bucket: bucket }));
    });
  });

  describe('failures', function () {
    it('an unreachable endpoint is ERR_UNAVAILABLE naming it, within a bounded time', async function () {
      const dead = createS3SnapshotStore({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        bucket: 'nowhere',
        timeouts: { connectMs: 500, requestMs: 1000 },
        maxAttempts: 2,
      });
      const started = Date.now();
      for (const call of [
        () => dead.get('d', 1),
        () => dead.put({ docId: 'd', version: 1, text: 'x', createdAt: 1 }),
      ]) {
        await assert.rejects(call(), (err) => {
          assert.ok(isCollabError(err, 'ERR_UNAVAILABLE'), String(err));
          assert.ok(err.retriable);
          assert.match(err.message, /127\.0\.0\.1:1\b/);
          assert.equal(err.endpoint, 's3 http://127.0.0.1:1');
          return true;
        });
      }
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      await dead.close();
      await assert.rejects(dead.get('d', 1), (err) => isCollabError(err, 'ERR_CLOSED'));
    });

    it('a server that accepts but never answers is ERR_TIMEOUT after requestMs', async function () {
      const sockets = new Set<Socket>();
      const server: Server = createServer((socket) => sockets.add(socket)); // reads nothing, answers nothing
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const silent = createS3SnapshotStore({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        bucket: 'silent',
        timeouts: { connectMs: 500, requestMs: 300 },
        maxAttempts: 1,
      });
      try {
        const started = Date.now();
        await assert.rejects(silent.get('d', 1), (err) => {
          assert.ok(isCollabError(err, 'ERR_TIMEOUT'), String(err));
          assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
          return true;
        });
        assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
      } finally {
        await silent.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
