// Percentiles as `pnpm bench` prints them (scripts/bench/stats.ts: the value at rank ⌈p·n⌉), so the
// figures a part writes in its lines agree with the table's.
export const pct = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export const median = (xs: readonly number[]): number => pct(xs, 50);

export const ms = (x: number): string => (Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1));

export const met = (ok: boolean): string => (ok ? "met" : "NOT met");
