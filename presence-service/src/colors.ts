/** A user's colour when the client gives none: derived from the user id, so it is the same everywhere, always. */

/** Twelve hues that read well as a caret, a label background (white text) and a 25 % selection tint. */
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#008080',
  '#f032e6',
  '#9a6324',
  '#800000',
  '#808000',
  '#000075',
  '#c71585',
] as const;

export function colorFor(userId: string): string {
  // FNV-1a: tiny, stable across processes and versions (unlike a language's built-in string hash).
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length]!;
}
