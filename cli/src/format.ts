/** Plain-text renderings of read results, pure (unit-tested). */
import type { HistoryEntry, Page } from '@collab/core';

/** A history page as an aligned table, newest first, with the cursor of the next page when there is one. */
export function historyTable(docId: string, page: Page<HistoryEntry>): string {
  const header = ['VERSION', 'TIME', 'USER', 'CLIENT'];
  const rows = page.items.map((e) => [String(e.version), new Date(e.timestamp).toISOString(), e.userId, e.clientId]);
  if (rows.length === 0) return `${docId}: no versions\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (page.next !== undefined) out.push('', `more: --cursor ${page.next}`);
  return `${out.join('\n')}\n`;
}
