/**
 * The records of the system. `OpCommitted` is what the ops topic holds — the source of truth — and what every
 * read model is derived from. Its Avro schema is in `schemas/`; keep the two in step.
 */
import type { TextOp } from '@collab/ot-text';
import type { CommentEvent } from './domain/comments.js';

/**
 * Version numbering: a new document is at version 0 (empty text). The op committed with version v turns version
 * v-1 into version v. So a document's version is the number of ops committed to it.
 */
export interface OpCommitted {
  docId: string;
  /** The version this op produces (1 for the first op). */
  version: number;
  /** The op as committed: already transformed to apply to version - 1. */
  op: TextOp;
  /** The version the client based its op on (before the server transformed it). */
  baseVersion: number;
  /** Who sent it: the client instance and its per-client sequence number (the dedupe key), and the user. */
  clientId: string;
  seq: number;
  userId: string;
  /** Commit time, milliseconds since the epoch (server clock). */
  timestamp: number;
}

/**
 * What a document's log holds: its ops and, in the same partition and order, its comment events (docs/comments.md).
 * A comment event carries the version it was decided at: it applies after op `version`, before op `version + 1`.
 * In the embedded log each record is JSON; on Kafka each kind has its own Avro schema (`op-committed`,
 * `comment-event`), told apart by the schema id in the framing.
 */
export type LogValue = OpCommitted | CommentEvent;

/** A comment event (every other record is an op). */
export const isCommentEvent = (value: LogValue): value is CommentEvent => 'body' in value;
export const isOpCommitted = (value: LogValue): value is OpCommitted => !('body' in value);

/** The head of a document as the read models know it. */
export interface DocHead {
  docId: string;
  version: number;
  /** Length in code points at that version. */
  length: number;
  lastUserId: string;
  updatedAt: number;
}

/** A snapshot: a document's whole text at one version. */
export interface SnapshotData {
  docId: string;
  version: number;
  text: string;
  /** When it was taken (ms since epoch). */
  createdAt: number;
}

export interface SnapshotMeta {
  docId: string;
  version: number;
  createdAt: number;
  /** Bytes of text (UTF-8). */
  size: number;
}
