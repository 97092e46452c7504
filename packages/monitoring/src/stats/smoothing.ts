// Exponential smoothing in the component form of Hyndman & Athanasopoulos, "Forecasting: Principles
// and Practice" (FPP3 §8.1–8.3): simple (SES), Holt's linear trend and additive Holt–Winters.
import { mean } from "./robust.ts";
import { nelderMead } from "./optimize.ts";

export type SmoothingKind = "ses" | "holt" | "holt_winters";

/** α: level; beta: the trend's β* (FPP's notation, 0 without trend); gamma: season (0 without season). */
export interface SmoothingParams {
  alpha: number;
  beta: number;
  gamma: number;
}

/** State before the next observation. `season[p]` is the seasonal index of phase p, where series
 *  index t has phase t mod period; empty without season. `trend` is 0 without trend. */
export interface SmoothingState {
  level: number;
  trend: number;
  season: number[];
}

export interface FilterResult {
  /** One-step-ahead forecasts ŷ_{t|t−1}, one per observation. */
  fitted: number[];
  residuals: number[];
  sse: number;
  /** State after the last observation. */
  final: SmoothingState;
  observations: number;
}

/** The smoothing recursions, FPP3 §8.3 (additive Holt–Winters; SES and Holt are the special cases
 *  without season / trend): ŷ = ℓ + b + s_{t−m}; ℓ' = α(y − s_{t−m}) + (1 − α)(ℓ + b);
 *  b' = β*(ℓ' − ℓ) + (1 − β*)b; s_t = γ(y − ℓ − b) + (1 − γ)s_{t−m}. */
export function smoothingFilter(values: readonly number[], params: SmoothingParams, initial: SmoothingState): FilterResult {
  const { alpha, beta, gamma } = params;
  const season = initial.season.slice();
  const m = season.length;
  let level = initial.level;
  let trend = initial.trend;
  const fitted: number[] = [];
  const residuals: number[] = [];
  let sse = 0;
  values.forEach((y, t) => {
    const s = m > 0 ? season[t % m]! : 0;
    const forecast = level + trend + s;
    fitted.push(forecast);
    residuals.push(y - forecast);
    sse += (y - forecast) ** 2;
    const nextLevel = alpha * (y - s) + (1 - alpha) * (level + trend);
    if (m > 0) season[t % m] = gamma * (y - level - trend) + (1 - gamma) * s;
    trend = beta * (nextLevel - level) + (1 - beta) * trend;
    level = nextLevel;
  });
  return { fitted, residuals, sse, final: { level, trend, season }, observations: values.length };
}

/** Point forecasts h = 1…horizon from the state after `observations` values: ℓ + h·b + s of the
 *  phase of index observations − 1 + h (FPP3 §8.3, the latest estimate of that season). */
export function smoothingPointForecast(final: SmoothingState, observations: number, horizon: number): number[] {
  const m = final.season.length;
  return Array.from({ length: horizon }, (_, i) => {
    const h = i + 1;
    return final.level + h * final.trend + (m > 0 ? final.season[(observations - 1 + h) % m]! : 0);
  });
}

/** Forecast standard deviations for the additive ETS models underlying the methods: σ_h² =
 *  σ²[1 + Σ_{j=1}^{h−1} c_j²], c_j = α + jαβ* + γ·[j ≡ 0 mod m] (Hyndman et al. 2008, ch. 6; sums
 *  to FPP3 Table 8.8's closed forms for ETS(A,N,N), (A,A,N), (A,A,A)). */
export function smoothingForecastSd(params: SmoothingParams, period: number, sigma: number, horizon: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let h = 1; h <= horizon; h++) {
    out.push(sigma * Math.sqrt(1 + sum));
    const j = h;
    const c = params.alpha + j * params.alpha * params.beta + (period > 0 && j % period === 0 ? params.gamma : 0);
    sum += c * c;
  }
  return out;
}

/** Heuristic initial state: SES ℓ₀ = y₁; Holt ℓ₀ = y₁, b₀ = y₂ − y₁ (FPP 1st ed. §7.2); Holt–Winters
 *  ℓ₀ = mean of the first season, b₀ = (mean of the second − mean of the first)/m, s_i = y_i − ℓ₀
 *  (FPP 1st ed. §7.5; statsmodels' "simple" initialisation). */
export function initialState(kind: SmoothingKind, values: readonly number[], period = 0): SmoothingState {
  const need = minimumLength(kind, period);
  if (values.length < need) throw new RangeError(`initialState(${kind}): need ≥ ${need} values, got ${values.length}`);
  if (kind === "ses") return { level: values[0]!, trend: 0, season: [] };
  if (kind === "holt") return { level: values[0]!, trend: values[1]! - values[0]!, season: [] };
  const first = mean(values.slice(0, period));
  const second = mean(values.slice(period, 2 * period));
  return { level: first, trend: (second - first) / period, season: values.slice(0, period).map((v) => v - first) };
}

/** Fewest observations a method can be fitted to (two full seasons for Holt–Winters). */
export function minimumLength(kind: SmoothingKind, period = 0): number {
  if (kind === "holt_winters") {
    if (!Number.isInteger(period) || period < 2) throw new RangeError(`holt_winters: period must be an integer ≥ 2, got ${period}`);
    return 2 * period + 1;
  }
  return kind === "holt" ? 3 : 2;
}

export interface SmoothingFit {
  kind: SmoothingKind;
  period: number;
  params: SmoothingParams;
  filter: FilterResult;
  /** √(SSE / (n − q)), q = number of smoothing parameters: the one-step residual standard deviation. */
  sigma: number;
}

const logistic = (u: number) => 1 / (1 + Math.exp(-u));
const logit = (p: number) => Math.log(p / (1 - p));

/** Fit by minimising the one-step-ahead SSE over α, β*, γ with 0 < α, β* < 1 and 0 < γ < 1 − α
 *  (FPP3 §8.3's usual restriction): the best point of a small grid, then Nelder–Mead in logistic
 *  coordinates (deterministic). Initial states are the heuristic ones of `initialState`. */
export function fitSmoothing(kind: SmoothingKind, values: readonly number[], period = 0): SmoothingFit {
  const m = kind === "holt_winters" ? period : 0;
  const initial = initialState(kind, values, m);
  const hasTrend = kind !== "ses";
  const hasSeason = kind === "holt_winters";
  const toParams = (u: readonly number[]): SmoothingParams => {
    const alpha = logistic(u[0]!);
    return {
      alpha,
      beta: hasTrend ? logistic(u[1]!) : 0,
      gamma: hasSeason ? (1 - alpha) * logistic(u[2]!) : 0,
    };
  };
  const sse = (u: readonly number[]) => smoothingFilter(values, toParams(u), initial).sse;
  let start: number[] = [];
  let bestSse = Infinity;
  for (const a of [0.05, 0.2, 0.5, 0.8]) {
    for (const b of hasTrend ? [0.01, 0.1, 0.3] : [0.5]) {
      for (const g of hasSeason ? [0.05, 0.2, 0.5] : [0.5]) {
        const u = [logit(a), logit(b), logit(g)].slice(0, hasSeason ? 3 : hasTrend ? 2 : 1);
        const v = sse(u);
        if (v < bestSse) [start, bestSse] = [u, v];
      }
    }
  }
  const found = nelderMead(sse, start, { step: 0.7, maxEvaluations: 400 });
  const params = toParams(found.x);
  const filter = smoothingFilter(values, params, initial);
  const q = hasSeason ? 3 : hasTrend ? 2 : 1;
  const dof = values.length > q ? values.length - q : values.length;
  return { kind, period: m, params, filter, sigma: Math.sqrt(filter.sse / dof) };
}

/** Forecast mean and standard deviation h = 1…horizon from a fitted smoothing model. */
export function smoothingForecast(fit: SmoothingFit, horizon: number): { mean: number[]; sd: number[] } {
  return {
    mean: smoothingPointForecast(fit.filter.final, fit.filter.observations, horizon),
    sd: smoothingForecastSd(fit.params, fit.period, fit.sigma, horizon),
  };
}
