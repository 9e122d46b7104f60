/** Summary statistics for the benchmarks' latency samples. */

/** The `p`-th percentile (0–100) of `xs`, nearest rank; `xs` is not modified. */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
