/**
 * The latency-over-time plot: an SVG drawn here (no chart library), turned into a PNG by the Chromium that is
 * already on the machine (/usr/bin/chromium, or CHROMIUM_PATH) through playwright-core — no browser download.
 */
import { writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import type { RunResult } from './run-workload.js';

const WIDTH = 900;
const HEIGHT = 420;
const MARGIN = { left: 60, right: 20, top: 40, bottom: 45 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

export function latencySvg(results: readonly RunResult[]): string {
  const series = results.flatMap((r) => [
    { label: `${r.target} p50`, dashed: false, points: r.timeline.map((t) => [t.second, t.p50] as const) },
    { label: `${r.target} p99`, dashed: true, points: r.timeline.map((t) => [t.second, t.p99] as const) },
  ]);
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y ?? 0));
  const xMax = Math.max(1, ...xs);
  // A log scale: p50 and p99 differ by orders of magnitude under load.
  const yMax = Math.max(10, ...ys);
  const yMin = 0.1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + (v / xMax) * plotW;
  const y = (v: number) =>
    MARGIN.top +
    plotH -
    ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const parts: string[] = [];
  for (let decade = yMin; decade <= yMax * 1.0001; decade *= 10) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(decade)}" y2="${y(decade)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(decade) + 4}" text-anchor="end" font-size="11">${decade >= 1 ? decade.toFixed(0) : decade}</text>`,
    );
  }
  for (let s = 0; s <= xMax; s += Math.max(1, Math.ceil(xMax / 10))) {
    parts.push(`<text x="${x(s)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${s}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[Math.floor(i / 2) % COLORS.length]!;
    const d = s.points
      .filter(([, v]) => v !== null)
      .map(([px, v], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(v!).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${MARGIN.left + 10 + i * 170}" y="${MARGIN.top - 12}" font-size="12" fill="${color}">${s.label}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12">second of the run</text>
<text x="14" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})" text-anchor="middle" font-size="12">keystroke → ack (ms, log scale)</text>
</svg>`;
}

/** Writes `svgPath` always and `pngPath` when a Chromium is available; returns whether the PNG was made. */
export async function writePlot(results: readonly RunResult[], svgPath: string, pngPath: string): Promise<boolean> {
  const svg = latencySvg(results);
  await writeFile(svgPath, svg);
  try {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
    try {
      const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
      await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
      await page.screenshot({ path: pngPath });
    } finally {
      await browser.close();
    }
    return true;
  } catch (err) {
    console.warn(`no PNG plot (${(err as Error).message.split('\n')[0]}); the SVG is at ${svgPath}`);
    return false;
  }
}
