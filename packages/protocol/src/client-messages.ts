/**
 * What a client may send: JSON text frames, one message per frame, each with a `t` (type) field. The server
 * validates every frame with `ClientMessage` before anything acts on it; docs/protocol.md is the prose version.
 */
import { z } from 'zod';
import { clientId, cursor, docId, version } from './fields.js';
import { RESYNC_CAUSES } from './message-types.js';
import { CommentClientMessage } from './comment-messages.js';

/** Cursor, selection, name and colour of this session in an open document (docs/protocol.md, "Presence"). */
export const PresenceClientMessage = z
  .object({
    t: z.literal('presence'),
    docId,
    /** Code points in the document's text at `version`. No cursor: present, but not in the text (e.g. blurred). */
    cursor: cursor.optional(),
    /** The version the positions refer to: the last version the client integrated. */
    version,
    /** Shown when the token has no name. */
    name: z.string().min(1).max(64).optional(),
    color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb')
      .optional(),
  })
  .strict();
export type PresenceClientMessage = z.infer<typeof PresenceClientMessage>;

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('auth'), token: z.string().min(1).max(16_384), protocol: z.number().int() }).strict(),
  z
    .object({
      t: z.literal('open'),
      docId,
      /** The version the client holds: it gets a catch-up from there (absent: the whole text). */
      version: version.optional(),
      // A client reloading a document it holds says why (counted in collab.client.resyncs): hash_mismatch is a
      // divergence the zero-divergence SLO pages on; inconsistent, an op or ack that did not fit its text.
      resync: z.enum(RESYNC_CAUSES).optional(),
    })
    .strict(),
  z
    .object({
      t: z.literal('submit'),
      docId,
      clientId,
      seq: z.number().int().positive().safe(),
      baseVersion: z.number(),
      // The op's own validation (checkOp, with stable codes) happens where it arrives and in the sequencer.
      op: z.unknown(),
    })
    .strict(),
  z.object({ t: z.literal('close'), docId }).strict(),
  z.object({ t: z.literal('ping'), id: z.union([z.string().max(64), z.number()]).optional() }).strict(),
  PresenceClientMessage,
  CommentClientMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type SubmitMessage = Extract<ClientMessage, { t: 'submit' }>;
