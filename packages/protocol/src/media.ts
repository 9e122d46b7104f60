/**
 * Rich media, as the wire sees it (docs/protocol.md, "Media"): the content types an upload may have, how each is
 * recognised from its first bytes, the form of a media id, and the text token that references an upload from a
 * document. Shared by the server (which checks uploads), the SDK (which builds references) and the editor (which
 * renders them), so the three agree on one definition.
 *
 * The allow-list is raster images only. SVG is not on it: an SVG is an XML document that can carry scripts and
 * external references, so serving one a user uploaded, from our origin, is a stored cross-site-scripting hole
 * unless every response is sandboxed perfectly; raster formats cannot run anything.
 */

/** Content type → the magic numbers its bytes start with (`undefined` entries match any byte). */
const SIGNATURES = {
  'image/png': [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  'image/jpeg': [[0xff, 0xd8, 0xff]],
  'image/gif': [
    [0x47, 0x49, 0x46, 0x38, 0x37, 0x61], // GIF87a
    [0x47, 0x49, 0x46, 0x38, 0x39, 0x61], // GIF89a
  ],
  // RIFF, four bytes of length, WEBP
  'image/webp': [[0x52, 0x49, 0x46, 0x46, undefined, undefined, undefined, undefined, 0x57, 0x45, 0x42, 0x50]],
} as const satisfies Record<string, ReadonlyArray<ReadonlyArray<number | undefined>>>;

export type MediaType = keyof typeof SIGNATURES;

/** The content types an upload may declare. */
export const MEDIA_TYPES = Object.keys(SIGNATURES) as MediaType[];

export const isMediaType = (value: string): value is MediaType => Object.hasOwn(SIGNATURES, value);

/** The allowed type whose magic numbers `bytes` start with, or undefined. */
export function sniffMediaType(bytes: Uint8Array): MediaType | undefined {
  return MEDIA_TYPES.find((type) =>
    SIGNATURES[type].some(
      (signature) => bytes.length >= signature.length && signature.every((b, i) => b === undefined || bytes[i] === b),
    ),
  );
}

/** A media id: the SHA-256 of the bytes, 64 lower-case hex digits (so an id names exactly one content). */
export const MEDIA_ID_PATTERN = /^[0-9a-f]{64}$/;

export const isMediaId = (value: string): boolean => MEDIA_ID_PATTERN.test(value);

/**
 * A reference to an upload in a document's text: `![alt](media:ID)`, as in Markdown. The alt text stops at the
 * first `]` or line break. Global: use with matchAll (group 1 is the alt text, group 2 the id).
 */
export const MEDIA_REFERENCE = /!\[([^\]\n]*)\]\(media:([0-9a-f]{64})\)/g;

/** The part of a reference that names the blob, `media:ID`: what garbage collection looks for. */
export const MEDIA_URI = /media:([0-9a-f]{64})/g;

/** The length of `media:` + an id, in code points (all ASCII). */
export const MEDIA_URI_LENGTH = 'media:'.length + 64;

/** The text that references upload `id`; brackets and line breaks in the alt text are dropped (they would end it). */
export const mediaReference = (id: string, alt = ''): string => `![${alt.replace(/[[\]\n\r]/g, '')}](media:${id})`;
