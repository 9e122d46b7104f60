/**
 * The presence messages of the editing protocol (docs/protocol.md, "Presence"). The client message is validated
 * here with zod and joined into the command-service's ClientMessage union; the server messages are what the
 * router delivers to sessions.
 */
import { z } from 'zod';

const position = z.number().int().nonnegative().safe();

export const PresenceClientMessage = z
  .object({
    t: z.literal('presence'),
    docId: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[\w.:@~-]+$/, 'document ids use letters, digits and . : @ ~ _ -'),
    /** Code points in the document's text at `version`. No cursor: present, but not in the text (e.g. blurred). */
    cursor: z.object({ anchor: position, head: position }).strict().optional(),
    /** The version the positions refer to: the last version the client integrated. */
    version: z.number().int().nonnegative().safe(),
    /** Shown when the token has no name. */
    name: z.string().min(1).max(64).optional(),
    color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb')
      .optional(),
  })
  .strict();
export type PresenceClientMessage = z.infer<typeof PresenceClientMessage>;

/** One user present in a document, as clients see them. */
export interface PresenceUser {
  /** The session (connection) this presence belongs to: one user may be present in several tabs. */
  sessionId: string;
  userId: string;
  name: string;
  color: string;
  /** Code points in the text at `version`; absent when the user has no cursor in the text (or it was too old). */
  cursor?: { anchor: number; head: number };
  version: number;
}

export type PresenceServerMessage =
  /** On open: everyone else present. */
  | { t: 'presence'; docId: string; users: PresenceUser[] }
  /** Someone joined or moved. */
  | { t: 'presence'; docId: string; update: PresenceUser }
  /** Someone left (closed the document, disconnected, or went silent for longer than the TTL). */
  | { t: 'presence-leave'; docId: string; sessionId: string };
