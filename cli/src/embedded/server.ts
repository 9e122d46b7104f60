/**
 * The embedded mode: every service in this one process, on SQLite and an in-process presence bus. The core code
 * is the distributed mode's — the command-service, the projector, the snapshot worker, the read side — only
 * the adapters differ. Data lives in one SQLite file under the data folder; restart and every document is back.
 */
import { bestEffort } from '@collab/core';
import { createSqliteStorage } from '@collab/adapter-sqlite';
import type { CommandService } from '@collab/command-service';
import {
  commentsAtVersion,
  createReadSideSource,
  healthRoutes,
  mediaApiRoutes,
  READ_API_PAGE_SIZE,
  readApiRoutes,
  startCommandService,
  TokenVerifier,
  webPageRoutes,
} from '@collab/command-service';
import { startProjectionService } from '@collab/projection-service';
import { createDocumentReader } from '@collab/read-side';
import { createSnapshotWorker } from '@collab/snapshot-service';
import { loadWebEditorAssets } from '@collab/web-editor';
import type { Logger } from 'pino';
import type { EmbeddedConfig } from '../embedded-config.js';
import { databasePath, preparePrivateDatabase } from '../storage/embedded.js';
import { createFolderMediaStore, MEDIA_FOLDER } from '../storage/media-folder.js';
import { join } from 'node:path';
import { devTokenRoute } from './dev-token-route.js';

export interface EmbeddedServer {
  readonly url: string;
  readonly service: CommandService;
  /** The process is stopping: /readyz answers 503 from now on, while everything still serves. */
  drain(): void;
  /** Graceful stop, in dependency order. Idempotent. */
  close(): Promise<void>;
}

/** Defaults; the limits in the configuration (`config.limits`) replace them. */
export const EMBEDDED_LIMITS = {
  maxFrameBytes: 256 * 1024,
  maxOpInsertLength: 64 * 1024,
  maxOpComponents: 2048,
  maxDocumentLength: 16 * 1024 * 1024,
  maxDocuments: 64,
  maxUnacked: 256,
  opsPerSecond: 200,
  messagesPerSecond: 500,
};

/** Ops each open document keeps in memory (transforms, catch-up); a load folds at least these after a snapshot. */
const WINDOW = 1000;
const PROJECTION_GROUP = 'projection';

export async function startEmbedded(config: EmbeddedConfig, logger: Logger): Promise<EmbeddedServer> {
  if (config.devTokensReason === 'exposed') {
    logger.warn(
      { host: config.host },
      'development tokens are on for a non-loopback interface: anyone who can reach the port can read and write every document',
    );
  }
  const path = databasePath(config);
  const folderWarning = preparePrivateDatabase(config.dataDir, path);
  if (folderWarning !== undefined) logger.warn(folderWarning);
  const storage = await createSqliteStorage({
    path,
    partitionCount: config.partitions,
    logger: logger.child({ component: 'sqlite' }),
  });
  // What has started so far, stopped in reverse order if a later step fails (a port in use must not leave the
  // consumers running and the process hanging).
  const started: (() => Promise<void>)[] = [() => storage.close()];
  const stopStarted = async () => {
    for (const stop of started.reverse()) await bestEffort(stop());
  };
  try {
    const projection = await startProjectionService({
      log: storage.opLog,
      store: storage.readModels,
      groupId: PROJECTION_GROUP,
      logger: logger.child({ component: 'projection' }),
    });
    started.push(() => projection.stop());
    const reader = createDocumentReader({ readModels: storage.readModels, snapshots: storage.snapshots });
    // The read API's own reader: short pages, so a replay never holds the event loop for long (read-api.ts).
    const apiReader = createDocumentReader({
      readModels: storage.readModels,
      snapshots: storage.snapshots,
      pageSize: READ_API_PAGE_SIZE,
    });
    const snapshotWorker = createSnapshotWorker({
      log: storage.opLog,
      groupId: 'snapshots',
      reader,
      snapshots: storage.snapshots,
      policy: { everyVersions: config.snapshotEvery },
      logger: logger.child({ component: 'snapshots' }),
    });
    await snapshotWorker.start();
    started.push(() => snapshotWorker.stop());

    // Documents load as in the distributed mode: snapshot + read models (ops and comment events) + the log after
    // the offset the projection has committed, the whole log only when that does not add up.
    const documents = createReadSideSource({
      log: storage.opLog,
      readModels: storage.readModels,
      snapshots: storage.snapshots,
      committedOffset: (partition) => storage.opLog.committedOffset(PROJECTION_GROUP, partition),
      window: WINDOW,
      logger: logger.child({ component: 'document-source' }),
      comments: true,
    });

    const assets = await loadWebEditorAssets();
    const auth = { hs256Secret: config.jwtSecret, maxLifetimeSeconds: config.jwtMaxLifetimeSeconds };
    const { maxCatchupBytes, ...limits } = config.limits;
    const verifier = await TokenVerifier.create(auth);
    let draining = false;
    const service = await startCommandService({
      log: storage.opLog,
      logger,
      host: config.host,
      port: config.port,
      auth,
      consumerGroup: 'command-service',
      ownAllPartitions: true,
      window: WINDOW,
      documents,
      maxCatchupBytes,
      hashEvery: 100,
      limits: { ...EMBEDDED_LIMITS, ...limits },
      // The SQLite log stores comment events beside the ops (docs/comments.md).
      comments: config.commentLimits,
      idleTimeoutSeconds: 60,
      access: config.access,
      connections: config.connections,
      edgeTransport: config.edgeTransport,
      // In-process presence: cursors and who is here, with no Redis.
      presence: { bus: storage.presence },
      httpRoutes: [
        // Everything runs in this process and owns every partition: ready means the SQLite log answers.
        ...healthRoutes({
          log: storage.opLog,
          ownedPartitions: () => [...Array(config.partitions).keys()],
          relays: false,
          draining: () => draining,
        }),
        ...readApiRoutes(apiReader, verifier, logger, config.readApi, Date.now, (docId, version) =>
          commentsAtVersion(documents, docId, version),
        ),
        // Uploads in the data folder ({dataDir}/media, see media-folder.ts).
        ...mediaApiRoutes(createFolderMediaStore(join(config.dataDir, MEDIA_FOLDER)), verifier, logger, config.media),
        ...webPageRoutes(assets),
        ...(config.devTokens ? [devTokenRoute(config.jwtSecret)] : []),
      ],
    });

    let closing: Promise<void> | undefined;
    return {
      url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${service.port}`,
      service,
      drain: () => {
        draining = true;
      },
      close: () =>
        (closing ??= (async () => {
          await service.close();
          await snapshotWorker.stop();
          await projection.stop();
          await storage.close();
        })()),
    };
  } catch (err) {
    await stopStarted();
    throw err;
  }
}
