/**
 * A progress bar for long CLI runs. On a terminal it redraws one line (at most every 100 ms); otherwise (CI,
 * a log file) it prints a plain line every few seconds so logs do not fill with carriage returns.
 */
export interface ProgressBar {
  update(done: number, total: number, detail: string): void;
  finish(detail: string): void;
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr, width = 30): ProgressBar {
  const tty = stream.isTTY === true;
  const interval = tty ? 100 : 5_000;
  let lastDraw = 0;
  const render = (done: number, total: number, detail: string) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${bar} ${(ratio * 100).toFixed(1).padStart(5)}% ${detail}`;
  };
  let last = { done: 0, total: 0 };
  return {
    update(done, total, detail) {
      last = { done, total };
      const now = Date.now();
      if (now - lastDraw < interval) return;
      lastDraw = now;
      if (tty) stream.write(`\r${render(done, total, detail)}\x1b[K`);
      else stream.write(`${render(done, total, detail)}\n`);
    },
    finish(detail) {
      const line = render(last.total, last.total, detail);
      stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}
