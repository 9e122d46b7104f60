export { PresenceRouter, PresenceError } from './router.js';
export type {
  PresenceDocuments,
  PresenceErrorCode,
  PresenceMember,
  PresenceObserver,
  PresenceRouterOptions,
} from './router.js';
export { colorFor } from './colors.js';
export { realClock } from './clock.js';
export type { Clock } from './clock.js';
export { DEFAULT_PRESENCE_SETTINGS, loadPresenceSettings } from './config.js';
export type { PresenceSettings } from './config.js';
export { cursorAt, lengthAt, transformCursor, transformPosition } from './positions.js';
export type { Cursor, DocumentWindow } from './positions.js';
