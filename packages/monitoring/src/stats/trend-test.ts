// Is a series rising or falling? The Mann–Kendall test (Mann 1945, Kendall 1975): S = Σ_{i<j}
// sign(x_j − x_i), Var(S) = [n(n−1)(2n+5) − Σ_t t(t−1)(2t+5)] / 18 with the tie groups t, the
// continuity-corrected Z = (S − sign(S)) / √Var(S), two-sided p = P(χ²₁ ≥ Z²). Distribution-free,
// so one outlier cannot make a trend; paired with the Theil–Sen slope (its natural estimator).
import { chiSquareSf } from "./special.ts";

export interface MannKendall {
  s: number;
  z: number;
  pValue: number;
  /** Kendall's τ_a = S / (n(n−1)/2). */
  tau: number;
  n: number;
}

export function mannKendall(values: readonly number[]): MannKendall | null {
  const n = values.length;
  if (n < 4) return null;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(values[j]! - values[i]!);
  const ties = new Map<number, number>();
  for (const v of values) ties.set(v, (ties.get(v) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) if (t > 1) tieTerm += t * (t - 1) * (2 * t + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  if (variance <= 0) return { s, z: 0, pValue: 1, tau: 0, n };
  const z = s === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(variance);
  return { s, z, pValue: chiSquareSf(z * z, 1), tau: s / ((n * (n - 1)) / 2), n };
}
