/**
 * What the inspecting commands read, whatever the mode: a DocumentReader (read models + snapshots) and the op
 * log. Each comes with its close(), called when the command is done.
 */
import type { OpLog, ReadModelStore } from '@collab/core';
import { createDocumentReader, type DocumentReader } from '@collab/read-side';
import { need, type CommandConfig } from '../config/load.js';
import { openEmbeddedStorage } from './embedded.js';
import { openCassandraReadModels, openKafkaLog, openS3Snapshots } from './distributed.js';

export interface ReadSide {
  reader: DocumentReader;
  close(): Promise<void>;
}

export interface LogSource {
  log: OpLog;
  close(): Promise<void>;
}

export async function openReadSide(config: CommandConfig): Promise<ReadSide> {
  if (config.mode === 'embedded') {
    const storage = await openEmbeddedStorage(config.embedded);
    return {
      reader: createDocumentReader({ readModels: storage.readModels, snapshots: storage.snapshots }),
      close: () => storage.close(),
    };
  }
  const readModels = await openCassandraReadModels(need(config.distributed.cassandra, 'cassandra'));
  const snapshots = openS3Snapshots(need(config.distributed.s3, 's3'));
  return {
    reader: createDocumentReader({ readModels, snapshots }),
    close: async () => {
      await Promise.all([readModels.close(), snapshots.close()]);
    },
  };
}

export async function openLogSource(config: CommandConfig): Promise<LogSource> {
  if (config.mode === 'embedded') {
    const storage = await openEmbeddedStorage(config.embedded);
    return { log: storage.opLog, close: () => storage.close() };
  }
  const log = await openKafkaLog(need(config.distributed.kafka, 'kafka'));
  return { log, close: () => log.close() };
}

/** What an export reads: the log, and for documents the read models that say where each one starts. */
export interface ExportSource extends LogSource {
  readModels?: ReadModelStore;
}

export async function openExportSource(config: CommandConfig, withReadModels: boolean): Promise<ExportSource> {
  if (config.mode === 'embedded') {
    const storage = await openEmbeddedStorage(config.embedded);
    return { log: storage.opLog, readModels: storage.readModels, close: () => storage.close() };
  }
  const log = await openKafkaLog(need(config.distributed.kafka, 'kafka'));
  if (!withReadModels) return { log, close: () => log.close() };
  let readModels: ReadModelStore;
  try {
    readModels = await openCassandraReadModels(need(config.distributed.cassandra, 'cassandra'));
  } catch (err) {
    await log.close();
    throw err;
  }
  return {
    log,
    readModels,
    close: async () => {
      await Promise.all([log.close(), readModels.close()]);
    },
  };
}
