/**
 * The names the schemas are built from, kept free of zod so the SDK (a browser bundle) can use them at run time.
 */

/** Every client message's `t`. A frame with another `t` is ERR_UNKNOWN_TYPE (before its fields are looked at). */
export const CLIENT_MESSAGE_TYPES = ['auth', 'open', 'submit', 'close', 'ping', 'presence', 'comment'] as const;
export type ClientMessageType = (typeof CLIENT_MESSAGE_TYPES)[number];

/** Why a client reloads a document it holds (`open.resync`; counted by the server in collab.client.resyncs). */
export const RESYNC_CAUSES = ['hash_mismatch', 'inconsistent', 'reload'] as const;
export type ResyncCause = (typeof RESYNC_CAUSES)[number];
