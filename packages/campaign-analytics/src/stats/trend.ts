// Theil–Sen trend: a slope that a few outlying days cannot drag, with Sen's (1968) distribution-free
// confidence interval.
//
// The interval inverts Kendall's test of "slope = β": for β between the k-th and (k+1)-th smallest
// pairwise slopes, S(β) = #(slopes > β) − #(slopes < β) = N − 2k, and β is kept when |S(β)| ≤ C with
// C = z_{1−α/2}·√Var(S). That keeps k in [⌈(N − C)/2⌉, ⌊(N + C)/2⌋], i.e. the interval runs from the
// ⌈(N − C)/2⌉-th to the (⌊(N + C)/2⌋ + 1)-th smallest slope (Gilbert 1987, ch. 16, when (N ± C)/2 are
// integers). Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 with t the sizes of groups of equal x: pairs
// with equal x carry no slope (Sen's tie correction). The residuals y − βx are continuous in β, so ties
// in y do not enter. Cost: O(n²) pairs, fine for daily series of a few years.
import { normalQuantile } from "./normal.ts";

export interface Slope {
  slope: number;
  intercept: number;
  low: number;
  high: number;
  confidence: number;
  /** Number of points used. */
  n: number;
  /** Number of pairs with distinct x (the pairwise slopes the estimate is the median of). */
  pairs: number;
  /** false when there are too few points for any finite interval at this confidence (e.g. 3 points at
   *  95 %): low/high are then the extreme pairwise slopes, and the data cannot rule out any slope. */
  bounded: boolean;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Theil–Sen slope (median of pairwise slopes, x distinct), intercept median(y − slope·x), and Sen's
 *  (1968) distribution-free confidence interval from the ranks of the pairwise slopes (Kendall's S
 *  variance with the tie correction). null when fewer than 3 points with distinct x. */
export function theilSen(points: Array<{ x: number; y: number }>, confidence = 0.95): Slope | null {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`theilSen: confidence must be in (0, 1), got ${confidence}`);
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new RangeError(`theilSen: points must be finite, got (${p.x}, ${p.y})`);
  }
  const n = points.length;
  if (new Set(points.map((p) => p.x)).size < 3) return null;

  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  slopes.sort((a, b) => a - b);
  const slope = median(slopes);
  const intercept = median(points.map((p) => p.y - slope * p.x).sort((a, b) => a - b));

  const tieGroups = new Map<number, number>();
  for (const p of points) tieGroups.set(p.x, (tieGroups.get(p.x) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of tieGroups.values()) tieTerm += t * (t - 1) * (2 * t + 5);
  const varianceS = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  const c = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(varianceS);

  const pairs = slopes.length;
  const lowRank = Math.ceil((pairs - c) / 2); // 1-based rank of the lower limit
  const highRank = Math.floor((pairs + c) / 2) + 1; // = pairs + 1 − lowRank
  const bounded = lowRank >= 1;
  return {
    slope,
    intercept,
    low: slopes[Math.max(1, lowRank) - 1]!,
    high: slopes[Math.min(pairs, highRank) - 1]!,
    confidence,
    n,
    pairs,
    bounded,
  };
}
