// Robust and classical summaries of a sample: pure functions, no I/O. Empty input is a caller
// error (RangeError), not a silent NaN.

function assertSample(values: readonly number[], name: string): void {
  if (values.length === 0) throw new RangeError(`${name}: empty sample`);
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`${name}: values must be finite, got ${v}`);
}

const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** Arithmetic mean. */
export function mean(values: readonly number[]): number {
  assertSample(values, "mean");
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample variance with n − 1 in the denominator (0 for a single value). */
export function variance(values: readonly number[]): number {
  const m = mean(values);
  if (values.length < 2) return 0;
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return s / (values.length - 1);
}

/** Median: the middle order statistic, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  assertSample(values, "median");
  const s = ascending(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Consistency constant making the MAD estimate σ for normal data: 1 / Φ⁻¹(3/4). */
export const MAD_NORMAL_SCALE = 1.482602218505602;

/** Median absolute deviation, median(|x − median(x)|); `scaled` multiplies by 1.4826 (as R's mad()). */
export function mad(values: readonly number[], options: { scaled?: boolean } = {}): number {
  const m = median(values);
  const raw = median(values.map((v) => Math.abs(v - m)));
  return options.scaled ? raw * MAD_NORMAL_SCALE : raw;
}

/** Mean absolute deviation around the mean, mean(|x − x̄|). */
export function meanAbsoluteDeviation(values: readonly number[]): number {
  const m = mean(values);
  return mean(values.map((v) => Math.abs(v - m)));
}

/** Sample quantile, Hyndman & Fan (1996) type 7 (R's default): x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), h = (n − 1)p. */
export function quantile(values: readonly number[], p: number): number {
  assertSample(values, "quantile");
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile: p must be in [0, 1], got ${p}`);
  return quantileOfSorted(ascending(values), p);
}

function quantileOfSorted(s: readonly number[], p: number): number {
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** Several type-7 quantiles at once (one sort). */
export function quantiles(values: readonly number[], ps: readonly number[]): number[] {
  assertSample(values, "quantiles");
  for (const p of ps) if (!(p >= 0 && p <= 1)) throw new RangeError(`quantiles: p must be in [0, 1], got ${p}`);
  const s = ascending(values);
  return ps.map((p) => quantileOfSorted(s, p));
}

export interface Line {
  slope: number;
  intercept: number;
}

function assertXY(x: readonly number[], y: readonly number[], name: string): void {
  if (x.length !== y.length) throw new RangeError(`${name}: x and y differ in length (${x.length} vs ${y.length})`);
  assertSample(x, name);
  assertSample(y, name);
}

/** Theil–Sen line (Theil 1950, Sen 1968): slope = median of pairwise slopes over pairs with distinct x;
 *  intercept = median(yᵢ − slope·xᵢ). Null when fewer than two distinct x. */
export function theilSen(x: readonly number[], y: readonly number[]): Line | null {
  assertXY(x, y, "theilSen");
  const slopes: number[] = [];
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = x[j]! - x[i]!;
      if (dx !== 0) slopes.push((y[j]! - y[i]!) / dx);
    }
  }
  if (slopes.length === 0) return null;
  const slope = median(slopes);
  return { slope, intercept: median(y.map((v, i) => v - slope * x[i]!)) };
}

/** Ordinary least squares line: slope = Sxy / Sxx, intercept = ȳ − slope·x̄. Null when all x are equal. */
export function ols(x: readonly number[], y: readonly number[]): Line | null {
  assertXY(x, y, "ols");
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Theil–Sen and OLS over an evenly spaced series (x = 0, 1, 2, …). */
export function seriesTrend(values: readonly number[]): { theilSen: Line | null; ols: Line | null } {
  const x = values.map((_, i) => i);
  return { theilSen: theilSen(x, values), ols: ols(x, values) };
}
