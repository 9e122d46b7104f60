/**
 * Code points vs UTF-16 code units.
 *
 * Positions in ops count Unicode code points (so they agree with implementations in other languages), while
 * JavaScript strings and browser editors index UTF-16 code units. A code point above U+FFFF is a surrogate pair:
 * two units, one position.
 */

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/** Number of code points in `s` (or in its first `end` UTF-16 units). */
export function codePointLength(s: string, end = s.length): number {
  let pairs = 0;
  for (let i = 0; i < end; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      pairs++;
      i++;
    }
  }
  return end - pairs;
}

/** UTF-16 offset of code point `cp` in `s`. Past the end it returns `s.length`. */
export function codePointToUtf16(s: string, cp: number): number {
  let i = 0;
  for (; cp > 0 && i < s.length; cp--) {
    i += isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** Code point index of UTF-16 offset `u` in `s`. An offset inside a surrogate pair rounds down. */
export function utf16ToCodePoint(s: string, u: number): number {
  let cp = 0;
  let i = 0;
  while (i < u && i < s.length) {
    const step = isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1)) ? 2 : 1;
    if (i + step > u) break;
    i += step;
    cp++;
  }
  return cp;
}

/** Slice `s` by code point positions, like `String.prototype.slice` with non-negative indexes. */
export function sliceCodePoints(s: string, start: number, end?: number): string {
  const from = codePointToUtf16(s, start);
  if (end === undefined) return s.slice(from);
  return s.slice(from, from + codePointToUtf16(s.slice(from), end - start));
}

/** True when `s` holds no unpaired surrogate, i.e. it is well-formed Unicode text. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (isHighSurrogate(unit)) {
      if (!isLowSurrogate(s.charCodeAt(i + 1))) return false;
      i++;
    } else if (isLowSurrogate(unit)) {
      return false;
    }
  }
  return true;
}

/** A cut point at or after `u` that does not fall between the two halves of a surrogate pair. */
export function safeCut(s: string, u: number): number {
  return u > 0 && u < s.length && isHighSurrogate(s.charCodeAt(u - 1)) && isLowSurrogate(s.charCodeAt(u)) ? u + 1 : u;
}
