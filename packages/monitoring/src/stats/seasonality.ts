// Seasonal structure of an evenly spaced series: a robust additive decomposition, the strength of
// its season and whether that season is meaningful (a rank test, not a bare threshold, because in
// short series noise alone gives a sizeable "strength").
import { chiSquareSf } from "./special.ts";
import { mean, median, variance } from "./robust.ts";

/** Running median over `window` consecutive points (odd window), centred; near the ends the window
 *  is shifted inwards rather than shrunk, so every value is a median of `window` points. */
export function runningMedian(values: readonly number[], window: number): number[] {
  if (window < 1 || window % 2 === 0) throw new RangeError(`runningMedian: window must be odd and ≥ 1, got ${window}`);
  const n = values.length;
  if (n < window) throw new RangeError(`runningMedian: ${n} values for a window of ${window}`);
  const half = (window - 1) / 2;
  return values.map((_, i) => {
    const start = Math.min(Math.max(i - half, 0), n - window);
    return median(values.slice(start, start + window));
  });
}

export interface Decomposition {
  period: number;
  trend: number[];
  seasonal: number[];
  remainder: number[];
  /** Seasonal effect per phase (index i of the series has phase i mod period); they sum to zero. */
  effects: number[];
}

/** Robust additive decomposition y = trend + season + remainder: trend = running median over one
 *  period (period + 1 when even), season = per-phase medians of the detrended values, centred to sum
 *  to zero, then the trend is re-estimated on the deseasonalised series (one robust pass of the
 *  classical-decomposition scheme, FPP3 §3.4, with medians for means). Needs two full periods. */
export function robustDecompose(values: readonly number[], period: number): Decomposition {
  if (!Number.isInteger(period) || period < 2) throw new RangeError(`robustDecompose: period must be an integer ≥ 2, got ${period}`);
  if (values.length < 2 * period) throw new RangeError(`robustDecompose: need ≥ ${2 * period} values, got ${values.length}`);
  const window = period % 2 === 1 ? period : period + 1;
  const firstTrend = runningMedian(values, window);
  const byPhase: number[][] = Array.from({ length: period }, () => []);
  values.forEach((v, i) => byPhase[i % period]!.push(v - firstTrend[i]!));
  const raw = byPhase.map((g) => median(g));
  const centre = mean(raw);
  const effects = raw.map((e) => e - centre);
  const seasonal = values.map((_, i) => effects[i % period]!);
  const trend = runningMedian(values.map((v, i) => v - seasonal[i]!), window);
  const remainder = values.map((v, i) => v - trend[i]! - seasonal[i]!);
  return { period, trend, seasonal, remainder, effects };
}

/** Strength of seasonality, F_S = max(0, 1 − Var(R)/Var(S + R)) (Wang, Smith & Hyndman 2006; FPP3 §4.3). */
export function seasonalStrength(seasonal: readonly number[], remainder: readonly number[]): number {
  const sr = seasonal.map((s, i) => s + remainder[i]!);
  const total = variance(sr);
  if (total === 0) return 0;
  return Math.max(0, 1 - variance(remainder) / total);
}

export interface RankTest {
  statistic: number;
  df: number;
  pValue: number;
}

/** Kruskal–Wallis H test that k groups share one distribution, with the tie correction, χ²(k − 1)
 *  approximation (Kruskal & Wallis 1952; Conover, Practical Nonparametric Statistics, §5.2). */
export function kruskalWallis(groups: readonly (readonly number[])[]): RankTest {
  const used = groups.filter((g) => g.length > 0);
  const all = used.flatMap((g, gi) => g.map((v) => ({ v, gi })));
  const n = all.length;
  const df = used.length - 1;
  if (df < 1) throw new RangeError("kruskalWallis: need at least two non-empty groups");
  all.sort((a, b) => a.v - b.v);
  const rankSum = new Array<number>(used.length).fill(0);
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2; // mean of the 1-based ranks i+1 … j+1
    for (let k = i; k <= j; k++) rankSum[all[k]!.gi]! += rank;
    const t = j - i + 1;
    ties += t ** 3 - t;
    i = j + 1;
  }
  const correction = 1 - ties / (n ** 3 - n);
  if (correction === 0) return { statistic: 0, df, pValue: 1 }; // every value equal: no evidence of a difference
  let h = 0;
  used.forEach((g, gi) => (h += rankSum[gi]! ** 2 / g.length));
  h = ((12 / (n * (n + 1))) * h - 3 * (n + 1)) / correction;
  return { statistic: h, df, pValue: chiSquareSf(h, df) };
}

export interface SeasonalProfile {
  period: number;
  /** Additive effect per phase (phase p = series indices p, p + period, …), summing to zero. */
  effects: number[];
  strength: number;
  test: RankTest;
  meaningful: boolean;
  reason: string;
}

export interface SeasonalProfileOptions {
  /** Full periods needed before a season can be called meaningful (default 3). */
  minPeriods?: number;
  /** Significance level of the Kruskal–Wallis test across phases (default 0.01). */
  alpha?: number;
  /** Smallest F_S called meaningful (default 0.3): significant but tiny seasons are not worth reporting. */
  minStrength?: number;
}

/** Seasonal profile: robust decomposition effects, F_S strength, and "meaningful" = at least
 *  `minPeriods` periods, Kruskal–Wallis p < alpha on the detrended values by phase, and F_S ≥ minStrength. */
export function seasonalProfile(values: readonly number[], period: number, options: SeasonalProfileOptions = {}): SeasonalProfile | null {
  const { minPeriods = 3, alpha = 0.01, minStrength = 0.3 } = options;
  if (values.length < 2 * period) return null;
  const d = robustDecompose(values, period);
  const strength = seasonalStrength(d.seasonal, d.remainder);
  const groups: number[][] = Array.from({ length: period }, () => []);
  values.forEach((v, i) => groups[i % period]!.push(v - d.trend[i]!));
  const test = kruskalWallis(groups);
  const periods = Math.floor(values.length / period);
  let reason: string;
  if (periods < minPeriods) reason = `only ${periods} full periods of ${period} (need ${minPeriods})`;
  else if (test.pValue >= alpha) reason = `no significant difference between phases (Kruskal–Wallis p = ${test.pValue.toPrecision(3)} ≥ ${alpha})`;
  else if (strength < minStrength) reason = `significant but weak (strength ${strength.toFixed(2)} < ${minStrength})`;
  else reason = `strength ${strength.toFixed(2)}, Kruskal–Wallis p = ${test.pValue.toPrecision(3)}`;
  const meaningful = periods >= minPeriods && test.pValue < alpha && strength >= minStrength;
  return { period, effects: d.effects, strength, test, meaningful, reason };
}

export const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

export interface DayOfWeekProfile extends Omit<SeasonalProfile, "effects"> {
  /** Monday first; weekday as JavaScript's getUTCDay (0 = Sunday). */
  days: { weekday: number; name: (typeof WEEKDAY_NAMES)[number]; effect: number }[];
}

/** Day-of-week profile of a daily series (seasonalProfile with period 7) labelled by weekday;
 *  `firstWeekday` is the weekday of values[0] (0 = Sunday … 6 = Saturday). Null below two full weeks. */
export function dayOfWeekProfile(values: readonly number[], firstWeekday: number, options: SeasonalProfileOptions = {}): DayOfWeekProfile | null {
  if (!Number.isInteger(firstWeekday) || firstWeekday < 0 || firstWeekday > 6) throw new RangeError(`dayOfWeekProfile: firstWeekday must be 0…6, got ${firstWeekday}`);
  const p = seasonalProfile(values, 7, options);
  if (!p) return null;
  const { effects, ...rest } = p;
  const days = [1, 2, 3, 4, 5, 6, 0].map((weekday) => ({
    weekday,
    name: WEEKDAY_NAMES[weekday]!,
    effect: effects[(weekday - firstWeekday + 7) % 7]!,
  }));
  return { ...rest, days };
}
