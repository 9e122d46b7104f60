/**
 * `@collab/protocol`: the WebSocket protocol between the SDK and the server, defined once (docs/protocol.md is the
 * prose). This entry has no run-time dependency — the message types, the error table, the state hash, the version
 * and the names messages are built from — so the SDK can bundle it into a browser page. The zod schemas the types
 * are inferred from are in `@collab/protocol/schemas`.
 */
// The message types (type-only: the schemas they are inferred from stay out of the bundle).
export type * from './client-messages.js';
export type * from './server-messages.js';
export type * from './comment-messages.js';
export {
  AUTH_CODES,
  CLIENT_ID_TAKEN,
  isRetriable,
  PROTOCOL_ERROR_CODES,
  PROTOCOL_ERRORS,
  RETRIABLE_CODES,
} from './errors.js';
export type { ProtocolErrorCode } from './errors.js';
export { CLIENT_MESSAGE_TYPES, RESYNC_CAUSES } from './message-types.js';
export type { ClientMessageType, ResyncCause } from './message-types.js';
export { sha256Hex, STATE_HASH_HEX_DIGITS, stateHash, stateHashFromDigest } from './state-hash.js';
export { hasLoneSurrogate, UNPAIRED_SURROGATE } from './well-formed.js';
export { PROTOCOL_VERSION } from './version.js';
export { toWireOp } from './wire-op.js';
export {
  isMediaId,
  isMediaType,
  MEDIA_ID_PATTERN,
  MEDIA_REFERENCE,
  MEDIA_TYPES,
  MEDIA_URI,
  MEDIA_URI_LENGTH,
  mediaReference,
  sniffMediaType,
} from './media.js';
export type { MediaType } from './media.js';
