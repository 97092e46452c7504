// Benchmark forecasts (FPP3 §5.2) with their prediction standard deviations (FPP3 §5.5, Table 5.2).

export interface PointForecast {
  mean: number[];
  sd: number[];
  /** Standard deviation of the in-sample one-step residuals. */
  sigma: number;
}

const rms = (xs: readonly number[], dof: number) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / Math.max(dof, 1));

/** Naive (random walk) forecast ŷ_{T+h} = y_T, σ_h = σ√h (FPP3 §5.2/5.5): the fallback for series
 *  too short for anything else. */
export function naiveForecast(values: readonly number[], horizon: number): PointForecast {
  if (values.length < 1) throw new RangeError("naiveForecast: empty series");
  const diffs = values.slice(1).map((v, i) => v - values[i]!);
  const sigma = rms(diffs, diffs.length);
  const last = values[values.length - 1]!;
  return {
    mean: Array.from({ length: horizon }, () => last),
    sd: Array.from({ length: horizon }, (_, i) => sigma * Math.sqrt(i + 1)),
    sigma,
  };
}

/** Seasonal naive ŷ_{T+h} = y_{T+h−m(k+1)}, σ_h = σ√(k+1), k = ⌊(h−1)/m⌋, σ from the residuals
 *  y_t − y_{t−m} (FPP3 §5.2, Table 5.2). Needs one full season. */
export function seasonalNaiveForecast(values: readonly number[], period: number, horizon: number): PointForecast {
  const n = values.length;
  if (n < period) throw new RangeError(`seasonalNaiveForecast: need ≥ ${period} values, got ${n}`);
  const residuals = values.slice(period).map((v, i) => v - values[i]!);
  const sigma = rms(residuals, residuals.length);
  const mean: number[] = [];
  const sd: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const j = Math.floor((h - 1) / period) + 1;
    mean.push(values[n - 1 + h - period * j]!);
    sd.push(sigma * Math.sqrt(j));
  }
  return { mean, sd, sigma };
}

/** Seasonal naive with drift (R forecast::rwf(lag = m, drift = TRUE)): the seasonal random walk
 *  y_t = y_{t−m} + c + ε with c the mean seasonal difference; ŷ_{T+h} = y_{T+h−mj} + j·c, j = k + 1,
 *  σ_h = σ√(j(1 + j/N)), N = n − m seasonal differences (FPP3 Table 5.2's drift form, per season). */
export function seasonalNaiveDriftForecast(values: readonly number[], period: number, horizon: number): PointForecast {
  const n = values.length;
  if (n < period + 2) throw new RangeError(`seasonalNaiveDriftForecast: need ≥ ${period + 2} values, got ${n}`);
  const diffs = values.slice(period).map((v, i) => v - values[i]!);
  const drift = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  const sigma = rms(diffs.map((d) => d - drift), diffs.length - 1);
  const mean: number[] = [];
  const sd: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const j = Math.floor((h - 1) / period) + 1;
    mean.push(values[n - 1 + h - period * j]! + j * drift);
    sd.push(sigma * Math.sqrt(j * (1 + j / diffs.length)));
  }
  return { mean, sd, sigma };
}
