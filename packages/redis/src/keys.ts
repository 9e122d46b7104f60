/**
 * Redis names for one document, all built around a hash tag:
 *
 *   {prefix}presence:{<docId>}           pub/sub channel: update and leave events, JSON
 *   {prefix}presence:{<docId>}:clients   ZSET clientId -> expiry time (ms, Redis server clock)
 *   {prefix}presence:{<docId>}:states    HASH clientId -> PresenceState JSON
 *
 * Why the braces: Redis Cluster hashes only the part between the first '{' and the next '}', so both keys of a
 * document live in one slot and the Lua scripts that touch them together are legal in a cluster. (Classic PUBLISH
 * is cluster-wide whatever the name; the tag also makes the channel ready for sharded pub/sub, SPUBLISH.)
 * In the docId, '{', '}' and '%' are percent-escaped so an id cannot end or empty the tag (an empty tag `{}`
 * would make Redis hash the whole key and split a document over slots). Events carry the real docId.
 */
import { CollabError } from '@collab/core';

export interface DocNames {
  channel: string;
  clients: string;
  states: string;
}

const escapeTag = (docId: string): string =>
  docId.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function checkKeyPrefix(prefix: string): void {
  if (/[{}]/.test(prefix)) {
    throw new CollabError('ERR_INVALID_ARGUMENT', `keyPrefix must not contain braces (hash tags): ${prefix}`);
  }
}

export function docNames(prefix: string, docId: string): DocNames {
  if (typeof docId !== 'string' || docId.length === 0) {
    throw new CollabError('ERR_INVALID_ARGUMENT', 'docId must be a non-empty string');
  }
  const channel = `${prefix}presence:{${escapeTag(docId)}}`;
  return { channel, clients: `${channel}:clients`, states: `${channel}:states` };
}
