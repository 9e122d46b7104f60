/**
 * Configuration of the Kafka OpLog, with every default in one place. Every value is documented in README.md
 * ("Configuration" and "Timeouts"); change the two together.
 */
import { CollabError } from '@collab/core';
import { silentLogger, type Logger } from '@collab/core';
import { localLogValueCodec, type LogValueCodec } from '@collab/schemas';
import type { KafkaSecurity } from './security.js';

export interface KafkaTimeouts {
  /** TCP connect to one broker (kafkajs `connectionTimeout`). */
  connectionMs: number;
  /** One Kafka request (kafkajs `requestTimeout`). */
  requestMs: number;
  /** Outer bound of a whole operation: connecting, opening a writer, endOffsets, closing. */
  operationMs: number;
  /** Outer bound of one append (one idempotent produce). After it the outcome is unknown: see README. */
  appendMs: number;
  /** The broker aborts a transaction (a writer's claim) left open longer than this (kafkajs `transactionTimeout`). */
  transactionMs: number;
  /** read() fails with ERR_TIMEOUT when it makes no progress for this long. */
  readIdleMs: number;
  /** Consumer group session; a member silent this long is removed and its partitions reassigned. */
  sessionMs: number;
  /** How often a consumer heartbeats (and so how fast it notices a rebalance). */
  heartbeatMs: number;
  /**
   * How often a writer renews its claim under the epoch it holds (writer.ts). Far below the brokers'
   * `producer.id.expiration.ms` (1 day by default) and `transactional.id.expiration.ms` (7 days), or a stale owner
   * could escape its fence.
   */
  claimRenewalMs: number;
}

export const DEFAULT_TIMEOUTS: KafkaTimeouts = {
  connectionMs: 3_000,
  requestMs: 10_000,
  operationMs: 30_000,
  appendMs: 15_000,
  transactionMs: 30_000,
  readIdleMs: 30_000,
  sessionMs: 30_000,
  heartbeatMs: 3_000,
  claimRenewalMs: 3_600_000,
};

export interface KafkaOpLogOptions {
  brokers: string[];
  /** The ops topic. It must exist (see ensureOpsTopic) with exactly `partitionCount` partitions. */
  topic: string;
  partitionCount: number;
  /** Names this process to the brokers (logs, quotas). Give each instance its own. */
  clientId: string;
  /**
   * Writers use transactional id `${transactionalIdPrefix}-p${partition}`. Every instance that may write the
   * topic must use the same prefix: that is what makes a new writer fence the old one. Default `${topic}-writer`.
   */
  transactionalIdPrefix?: string;
  timeouts?: Partial<KafkaTimeouts>;
  /** kafkajs retries of a failed request, before the operation fails. */
  retries?: number;
  /** TLS (server verified, optional client certificate) and SASL; default plaintext. */
  security?: KafkaSecurity;
  /**
   * A Confluent-compatible schema registry: records are framed with the id it assigns to the current schema
   * (registered once at open under `<topic>-value`, FULL_TRANSITIVE), readers look unknown ids up in it.
   * Without it, the local schema ids (see @collab/schemas registry.ts). See docs/operations.md, "Schema registry".
   */
  schemaRegistry?: { url: string; idCachePath?: string; timeoutMs?: number };
  /**
   * Without a registry: the op-committed schema version ops are written with (COLLAB_OPS_SCHEMA_VERSION, a
   * rolling upgrade's switch; default the newest). Records of every version are read whatever it is. Refused
   * with `schemaRegistry` (ERR_INVALID_ARGUMENT).
   */
  opsSchemaVersion?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  brokers: string[];
  topic: string;
  partitionCount: number;
  clientId: string;
  transactionalIdPrefix: string;
  timeouts: KafkaTimeouts;
  retries: number;
  security: KafkaSecurity | undefined;
  /**
   * Encodes appended records and decodes read ones, ops and comment events (each kind by its schema id);
   * createKafkaOpLog replaces it when a registry is given.
   */
  codec: LogValueCodec;
  logger: Logger;
  /** For error messages: the brokers an operator should look at. */
  endpoint: string;
}

export function resolveOptions(options: KafkaOpLogOptions): ResolvedOptions {
  const problems: string[] = [];
  if (options.brokers.length === 0) problems.push('brokers: give at least one host:port');
  if (options.topic.length === 0) problems.push('topic: must not be empty');
  if (!Number.isInteger(options.partitionCount) || options.partitionCount < 1) {
    problems.push(`partitionCount: a positive integer, got ${options.partitionCount}`);
  }
  if (options.clientId.length === 0) problems.push('clientId: must not be empty');
  if (problems.length > 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `invalid Kafka OpLog options: ${problems.join('; ')}`);
  }
  return {
    brokers: options.brokers,
    topic: options.topic,
    partitionCount: options.partitionCount,
    clientId: options.clientId,
    transactionalIdPrefix: options.transactionalIdPrefix ?? `${options.topic}-writer`,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    retries: options.retries ?? 3,
    security: options.security,
    codec: localLogValueCodec,
    logger: options.logger ?? silentLogger,
    endpoint: `kafka ${options.brokers.join(',')}`,
  };
}
