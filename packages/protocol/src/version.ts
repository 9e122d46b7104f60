/**
 * The protocol version a client names in `auth` (`{t:"auth", token, protocol}`); a server that speaks another
 * answers ERR_PROTOCOL_VERSION. Adding optional fields or message types keeps the version; anything else bumps it.
 */
export const PROTOCOL_VERSION = 1;
