/**
 * SnapshotStore over S3. Key layout: keys.ts; object format: object-format.ts; large objects: multipart.ts.
 *
 * Cost per call: put = 1 PUT (multipart: 1 HEAD + 2 + parts) + the pointer's GET and, when it moves, PUT;
 * get = 1 GET; latest = 2 GETs (the pointer, then the snapshot it names) — 1 LIST + 1 GET instead when the
 * pointer is missing, above maxVersion or names a deleted snapshot; list = the LIST pages + 1 HEAD per snapshot
 * (createdAt lives in object metadata, which LIST does not return); delete = 1.
 *
 * The pointer ({prefix}docs/{id}/latest, keys.ts) is a hint, moved forward after each put by compare-and-set on
 * its ETag, so racing puts never move it back. A crash between a snapshot's PUT and the pointer's (or a put
 * failing there) can leave it naming an older snapshot until the document's next put (or the retried one). `latest` then returns that older (still valid) snapshot and the reader
 * replays a longer tail; it never returns a version above maxVersion or a snapshot that does not exist.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CollabError, type SnapshotData, type SnapshotMeta, type SnapshotStore } from '@collab/core';
import { createS3Client, type S3EndpointConfig } from './client.js';
import { endpointOf } from './bucket.js';
import { isConditionalConflict, isNotFound, isPreconditionFailed, toCollabError } from './errors.js';
import { s3Runner } from './runner.js';
import { silentLogger, type Logger } from '@collab/core';
import { checkVersion, docPrefix, latestPointerKey, snapshotKey, versionOfKey } from './keys.js';
import { createdAtOf, decodeSnapshot, encodeSnapshot, type EncodedSnapshot } from './object-format.js';
import { putMultipartIfAbsent } from './multipart.js';

const MiB = 1024 * 1024;

export type S3SnapshotStoreOptions = ({ client: S3Client } | ({ client?: undefined } & S3EndpointConfig)) & {
  bucket: string;
  /** Prepended to every key, e.g. "prod/" — lets several deployments or test runs share a bucket. */
  prefix?: string;
  /** Texts larger than this (UTF-8 bytes) are written with a multipart upload. Default 10 MiB. */
  multipartThresholdBytes?: number;
  /** Part size for multipart uploads; S3 requires ≥ 5 MiB for every part but the last. Default 8 MiB. */
  partSizeBytes?: number;
  logger?: Logger;
};

/** How often a put retries after a 409 ConditionalRequestConflict (another writer mid-flight on the same key). */
const CONFLICT_RETRIES = 3;
/**
 * How long a put keeps trying to move a document's latest pointer forward (it is only a hint). Every round it
 * loses is another put's win, and a win moves the pointer up, so the rounds end; a fixed count of rounds did
 * not (24 racing puts of one document: the highest can lose 23 rounds, and it lost the 20 it had once in CI).
 */
const POINTER_BUDGET_MS = 5_000;
/** First backoff step between lost rounds (ms); doubles up to 32× with full jitter. */
const POINTER_BACKOFF_MS = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createS3SnapshotStore(options: S3SnapshotStoreOptions): SnapshotStore {
  const ownsClient = options.client === undefined;
  const client = options.client ?? createS3Client(options as S3EndpointConfig);
  const Bucket = options.bucket;
  const prefix = options.prefix ?? '';
  const threshold = options.multipartThresholdBytes ?? 10 * MiB;
  const partSizeBytes = options.partSizeBytes ?? 8 * MiB;
  const logger = options.logger ?? silentLogger;
  const endpointLabel = options.client === undefined ? options.endpoint : undefined;
  let closed = false;

  /** Run one S3 operation, turning failures into CollabError that name the endpoint. */
  const s3 = s3Runner(client, 'snapshot store', endpointLabel, () => closed);

  const where = (key: string): string => `s3://${Bucket}/${key}`;

  async function putIfAbsent(key: string, encoded: EncodedSnapshot): Promise<'created' | 'exists'> {
    if (encoded.body.byteLength > threshold) {
      // A HEAD first: re-uploading 10+ MB only to be refused at the end would be a waste. The conditional
      // complete still decides races.
      if ((await headMetadata(key)) !== undefined) return 'exists';
      return putMultipartIfAbsent({ client, bucket: Bucket, key, partSizeBytes, concurrency: 4, logger }, encoded);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: encoded.body,
            Metadata: encoded.metadata,
            ContentType: 'text/plain; charset=utf-8',
            IfNoneMatch: '*',
          }),
        );
        return 'created';
      } catch (err) {
        if (isPreconditionFailed(err)) return 'exists';
        // 409: the other write may still fail, so try again: we then either win or see its object (412).
        if (!isConditionalConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  async function headMetadata(key: string): Promise<Record<string, string> | undefined> {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket, Key: key }))).Metadata ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Both snapshots of one (docId, version) must hold the same text (convergence); say so loudly if not. */
  async function warnIfDiverged(key: string, encoded: EncodedSnapshot): Promise<void> {
    const existing = await headMetadata(key).catch(() => undefined);
    if (existing !== undefined && existing['collab-sha256'] !== encoded.metadata['collab-sha256']) {
      logger.error(
        { key: where(key), existing: existing['collab-sha256'], offered: encoded.metadata['collab-sha256'] },
        'snapshot divergence: a different text already exists for this version',
      );
    }
  }

  async function get(docId: string, version: number): Promise<SnapshotData | undefined> {
    const key = snapshotKey(prefix, docId, version);
    return s3(`GetObject ${where(key)}`, async () => {
      let result;
      try {
        result = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const body = (await result.Body?.transformToByteArray()) ?? new Uint8Array();
      return decodeSnapshot(docId, version, body, result.Metadata, where(key));
    });
  }

  /** The document's pointer: the version it names (undefined if we cannot read it as ours) and its ETag. */
  async function readPointer(docId: string): Promise<{ version: number | undefined; etag: string } | undefined> {
    const key = latestPointerKey(prefix, docId);
    return s3(`GetObject ${where(key)}`, async () => {
      let body: string;
      let etag: string;
      try {
        const result = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        body = (await result.Body?.transformToString()) ?? '';
        etag = result.ETag ?? '';
      } catch (err) {
        if (isNotFound(err)) return undefined;
        // A read racing an overwrite of the pointer: S3Proxy's filesystem backend can serve a torn object (seen
        // under 16 concurrent puts of one document). An unreadable pointer: the caller lists, or re-reads.
        if (isTornRead(err)) {
          logger.warn({ key: where(key) }, 'latest pointer read raced a write; ignoring it');
          return { version: undefined, etag: '' };
        }
        throw err;
      }
      const version = parsePointer(body);
      if (version === undefined) logger.warn({ key: where(key) }, 'ignoring an unreadable latest pointer');
      return { version, etag };
    });
  }

  /**
   * This store's pointer moves, one document at a time: puts of one document from this process take turns (the
   * first GET then finds what the previous one wrote, so no round is lost), and only writers in other processes
   * race on the ETag. That also keeps the pointer right on servers whose conditional writes are a check and then
   * a write rather than one atomic step (S3Proxy's filesystem backend: two PUTs with the same If-Match can both
   * succeed, and the pointer ended one version behind under 24 concurrent puts in CI).
   */
  const pointerTurns = new Map<string, Promise<void>>();
  function movePointer(docId: string, version: number): Promise<void> {
    const turn = (pointerTurns.get(docId) ?? Promise.resolve()).then(() => advancePointer(docId, version));
    const settled = turn.catch(() => {}); // the next turn waits for this one, however it ended (its caller sees it)
    pointerTurns.set(docId, settled);
    void settled.then(() => {
      if (pointerTurns.get(docId) === settled) pointerTurns.delete(docId);
    });
    return turn;
  }

  /**
   * Move the pointer forward to `version`, never back: compare-and-set on its ETag (If-Match, or If-None-Match
   * for a first pointer), re-read and retried when another put moved it in between.
   */
  async function advancePointer(docId: string, version: number): Promise<void> {
    const key = latestPointerKey(prefix, docId);
    const deadline = Date.now() + POINTER_BUDGET_MS;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const current = await readPointer(docId);
      if (current?.version !== undefined && current.version >= version) return;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: JSON.stringify({ format: 1, version }),
            ContentType: 'application/json',
            ...(current === undefined || current.etag === '' ? { IfNoneMatch: '*' } : { IfMatch: current.etag }),
          }),
        );
        return;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConditionalConflict(err) && !isNotFound(err)) {
          throw toCollabError(err, `PutObject ${where(key)}`, endpointLabel ?? (await endpointOf(client)));
        }
      }
      // Lost a round to another put of this document: back off a little (jittered) so the racers spread out.
      await sleep(Math.random() * POINTER_BACKOFF_MS * 2 ** Math.min(attempt, 5));
    }
    // Still losing after that long: others keep moving it forward; a hint that lags is harmless.
    logger.warn({ key: where(key), version }, 'latest pointer not moved: too many concurrent updates');
  }

  /** One page of a document's keys, newest first, as (key, version, size), skipping keys we did not write. */
  async function listPage(docId: string, startAfter: string | undefined, token: string | undefined, max: number) {
    const Prefix = docPrefix(prefix, docId);
    const page = await s3(`ListObjectsV2 s3://${Bucket}/${Prefix}`, () =>
      client.send(
        new ListObjectsV2Command({
          Bucket,
          Prefix,
          MaxKeys: max,
          ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      ),
    );
    const entries = (page.Contents ?? []).flatMap(({ Key, Size }) => {
      const version = Key === undefined ? undefined : versionOfKey(Prefix, Key);
      return version === undefined || Key === undefined ? [] : [{ key: Key, version, size: Size ?? 0 }];
    });
    return { entries, next: page.IsTruncated === true ? page.NextContinuationToken : undefined };
  }

  return {
    async put(snapshot) {
      if (typeof snapshot.text !== 'string' || !Number.isFinite(snapshot.createdAt)) {
        throw new CollabError('ERR_INVALID_ARGUMENT', 'snapshot needs a string text and a numeric createdAt');
      }
      const key = snapshotKey(prefix, snapshot.docId, snapshot.version);
      const encoded = encodeSnapshot(snapshot);
      const outcome = await s3(`PutObject ${where(key)}`, () => putIfAbsent(key, encoded));
      if (outcome === 'exists') await warnIfDiverged(key, encoded);
      // Also after 'exists': a put retried after a crash between the snapshot and the pointer repairs it.
      await movePointer(snapshot.docId, snapshot.version);
      logger.debug({ key: where(key), bytes: encoded.body.byteLength, outcome }, 'snapshot put');
      return outcome;
    },

    get,

    async latest(docId, maxVersion) {
      let startAfter: string | undefined;
      if (maxVersion !== undefined) {
        if (Number.isNaN(maxVersion) || maxVersion < 0) return undefined;
        const bound = Math.floor(maxVersion);
        // Keys sort newest first, so everything after key(bound + 1) has a version <= bound.
        if (bound < Number.MAX_SAFE_INTEGER) startAfter = snapshotKey(prefix, docId, bound + 1);
      }
      // The fast path: the pointer names the newest snapshot; usable whenever it is within maxVersion.
      const pointed = (await readPointer(docId))?.version;
      if (pointed !== undefined && (maxVersion === undefined || pointed <= maxVersion)) {
        const snapshot = await get(docId, pointed);
        if (snapshot !== undefined) return snapshot;
        // Deleted since (not by retention, which keeps the newest): the listing finds the next older one.
      }
      let token: string | undefined;
      do {
        const page = await listPage(docId, startAfter, token, 10);
        for (const entry of page.entries) {
          // undefined: deleted (retention) between the LIST and the GET; the next older one will do.
          const snapshot = await get(docId, entry.version);
          if (snapshot !== undefined) return snapshot;
        }
        token = page.next;
      } while (token !== undefined);
      return undefined;
    },

    async list(docId) {
      const found: { key: string; version: number; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await listPage(docId, undefined, token, 1000);
        found.push(...page.entries);
        token = page.next;
      } while (token !== undefined);
      const metas = await mapLimit(found, 8, async ({ key, version, size }) => {
        const metadata = await s3(`HeadObject ${where(key)}`, () => headMetadata(key));
        if (metadata === undefined) return undefined; // deleted since the LIST
        const meta: SnapshotMeta = { docId, version, size, createdAt: createdAtOf(metadata, where(key)) };
        return meta;
      });
      return metas.filter((m): m is SnapshotMeta => m !== undefined).sort((a, b) => a.version - b.version);
    },

    async delete(docId, version) {
      checkVersion(version);
      const key = snapshotKey(prefix, docId, version);
      // DeleteObject of a missing key succeeds: delete is idempotent.
      await s3(`DeleteObject ${where(key)}`, () => client.send(new DeleteObjectCommand({ Bucket, Key: key })));
    },

    async close() {
      if (closed) return;
      closed = true;
      if (ownsClient) client.destroy();
    },
  };
}

/** The SDK's response checksum check failed: the body does not match the checksum headers sent with it. */
const isTornRead = (err: unknown): boolean => err instanceof Error && /checksum mismatch/i.test(err.message);

function parsePointer(body: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { format, version } = parsed as { format?: unknown; version?: unknown };
    return format === 1 && typeof version === 'number' && Number.isSafeInteger(version) && version >= 0
      ? version
      : undefined;
  } catch {
    return undefined;
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
