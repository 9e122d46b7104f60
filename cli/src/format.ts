/** Plain-text renderings of read results, pure (unit-tested). */
import type { HistoryEntry, Page } from '@collab/core';

/**
 * What cannot be shown as itself in a terminal, escaped: control characters (C0, DEL, C1 — ESC and CSI start
 * terminal escape sequences, which an id written by a client could use to rewrite the screen), the bidirectional
 * controls (which reorder what is shown), unpaired surrogates, and the backslash itself, so the escape is
 * unambiguous. Ids come from clients and tokens; printing them raw hands the terminal to whoever chose them.
 */
export function printable(s: string): string {
  return s.replace(/[\\\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\p{Surrogate}]/gu, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * One value as a line of JSON that is also safe in a terminal: JSON.stringify escapes C0 controls and unpaired
 * surrogates but leaves DEL, the C1 controls (U+009B is CSI) and the bidirectional controls as they are.
 */
export function jsonLine(value: unknown): string {
  const json = JSON.stringify(value).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${json}\n`;
}

/** A history page as an aligned table, newest first, with the cursor of the next page when there is one. */
export function historyTable(docId: string, page: Page<HistoryEntry>): string {
  const header = ['VERSION', 'TIME', 'USER', 'CLIENT'];
  const rows = page.items.map((e) => [
    String(e.version),
    new Date(e.timestamp).toISOString(),
    printable(e.userId),
    printable(e.clientId),
  ]);
  if (rows.length === 0) return `${printable(docId)}: no versions\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (page.next !== undefined) out.push('', `more: --cursor ${printable(page.next)}`);
  return `${out.join('\n')}\n`;
}
