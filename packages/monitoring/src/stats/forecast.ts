// Forecast a daily series with an optional weekly season: candidates scored by a rolling-origin
// backtest on the last weeks, the lowest MASE wins, and the report says whether it beats seasonal naive.
import { naiveForecast, seasonalNaiveDriftForecast, seasonalNaiveForecast } from "./naive.ts";
import { fitSmoothing, minimumLength, smoothingForecast, type SmoothingParams } from "./smoothing.ts";

export type ForecastMethod = "naive" | "seasonal_naive" | "seasonal_naive_drift" | "ses" | "holt" | "holt_winters";

/** Backtest candidates, simplest first: a tie goes to the simpler method. */
export const FORECAST_CANDIDATES: readonly ForecastMethod[] = ["seasonal_naive", "seasonal_naive_drift", "ses", "holt", "holt_winters"];

export interface MethodForecast {
  mean: number[];
  sd: number[];
  sigma: number;
  params: SmoothingParams | null;
}

/** One method fitted to `values` and forecast `horizon` steps (mean and h-step standard deviation). */
export function forecastWith(method: ForecastMethod, values: readonly number[], period: number, horizon: number): MethodForecast {
  switch (method) {
    case "naive":
      return { ...naiveForecast(values, horizon), params: null };
    case "seasonal_naive":
      return { ...seasonalNaiveForecast(values, period, horizon), params: null };
    case "seasonal_naive_drift":
      return { ...seasonalNaiveDriftForecast(values, period, horizon), params: null };
    case "ses":
    case "holt":
    case "holt_winters": {
      const fit = fitSmoothing(method, values, method === "holt_winters" ? period : 0);
      return { ...smoothingForecast(fit, horizon), sigma: fit.sigma, params: fit.params };
    }
  }
}

/** In-sample MAE of the seasonal naive method, (1/(n−m)) Σ|y_t − y_{t−m}|: the MASE scale
 *  (Hyndman & Koehler 2006; FPP3 §5.8). */
export function seasonalNaiveMae(train: readonly number[], period: number): number {
  const d = train.slice(period).map((v, i) => Math.abs(v - train[i]!));
  if (d.length === 0) throw new RangeError(`seasonalNaiveMae: need > ${period} values, got ${train.length}`);
  return d.reduce((s, x) => s + x, 0) / d.length;
}

/** MAPE = mean |e_t / y_t| × 100 (FPP3 §5.8); null when an actual is 0, where it is undefined. */
export function mape(actual: readonly number[], predicted: readonly number[]): number | null {
  if (actual.some((a) => a === 0)) return null;
  return (100 * actual.reduce((s, a, i) => s + Math.abs((a - predicted[i]!) / a), 0)) / actual.length;
}

export interface CandidateScore {
  method: ForecastMethod;
  /** Mean over origins of MAE / in-sample seasonal-naive MAE of that origin's training part; null when a scale is 0. */
  mase: number | null;
  /** Null when an actual in the holdout is 0 (MAPE undefined). */
  mape: number | null;
  mae: number;
  rmse: number;
}

export interface BacktestReport {
  period: number;
  /** Days forecast from each origin. */
  holdout: number;
  /** Rolling origins, one period apart, the last at n − holdout. */
  origins: number;
  candidates: CandidateScore[];
  chosen: ForecastMethod;
  /** MASE unless a training part has zero seasonal-naive MAE (then MAE, noted). */
  criterion: "mase" | "mae";
  beatsSeasonalNaive: boolean;
  note: string | null;
}

/** Rolling-origin backtest (FPP3 §5.10, "evaluation on a rolling forecasting origin"): from each
 *  origin every candidate is fitted on the data before it and forecasts the next `holdout` points. */
export function backtest(
  values: readonly number[],
  options: { period: number; holdout: number; maxOrigins?: number; candidates?: readonly ForecastMethod[] },
): BacktestReport {
  const { period, holdout, maxOrigins = 3, candidates = FORECAST_CANDIDATES } = options;
  const n = values.length;
  const minTrain = Math.max(...candidates.map((c) => minTrainLength(c, period)));
  const origins = Math.min(maxOrigins, Math.floor((n - holdout - minTrain) / period) + 1);
  if (origins < 1) throw new RangeError(`backtest: ${n} values cannot hold out ${holdout} after ${minTrain} training values`);
  let zeroScale = false;
  const scores = candidates.map((method): CandidateScore => {
    const actual: number[] = [];
    const predicted: number[] = [];
    const maseByOrigin: number[] = [];
    for (let o = 0; o < origins; o++) {
      const end = n - holdout - o * period;
      const train = values.slice(0, end);
      const test = values.slice(end, end + holdout);
      const f = forecastWith(method, train, period, holdout).mean;
      const mae = test.reduce((s, a, i) => s + Math.abs(a - f[i]!), 0) / test.length;
      const scale = seasonalNaiveMae(train, period);
      if (scale === 0) zeroScale = true;
      maseByOrigin.push(mae / scale);
      actual.push(...test);
      predicted.push(...f);
    }
    const errors = actual.map((a, i) => a - predicted[i]!);
    return {
      method,
      mase: zeroScale ? null : maseByOrigin.reduce((s, x) => s + x, 0) / origins,
      mape: mape(actual, predicted),
      mae: errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length,
      rmse: Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length),
    };
  });
  if (zeroScale) for (const s of scores) s.mase = null;
  const criterion = zeroScale ? "mae" : "mase";
  const score = (s: CandidateScore) => (criterion === "mase" ? s.mase! : s.mae);
  let best = scores[0]!;
  for (const s of scores) if (score(s) < score(best) - 1e-12 * Math.abs(score(best))) best = s;
  const naive = scores.find((s) => s.method === "seasonal_naive");
  const beatsSeasonalNaive = naive !== undefined && best.method !== "seasonal_naive" && score(best) < score(naive);
  return {
    period,
    holdout,
    origins,
    candidates: scores,
    chosen: best.method,
    criterion,
    beatsSeasonalNaive,
    note: zeroScale ? "a training window repeats exactly each season (seasonal-naive MAE 0): MASE undefined, chosen by MAE" : null,
  };
}

function minTrainLength(method: ForecastMethod, period: number): number {
  if (method === "seasonal_naive") return period + 1;
  if (method === "seasonal_naive_drift") return period + 2;
  if (method === "naive") return 2;
  return Math.max(minimumLength(method, period), period + 1);
}

/** Standard normal quantiles for the two reported band levels. */
const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;

export interface ForecastPoint {
  step: number;
  mean: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

export interface ForecastReport {
  method: ForecastMethod;
  horizon: number;
  period: number;
  points: ForecastPoint[];
  sigma: number;
  params: SmoothingParams | null;
  backtest: BacktestReport | null;
  /** Why this method: the backtest verdict, or why there was no backtest. */
  reason: string;
  intervals: string;
}

export interface ForecastOptions {
  horizon: number;
  /** Season length (7 for a daily series with a weekly season). */
  period?: number;
  /** Whole periods held out per origin (default ⌈horizon / period⌉). */
  holdoutPeriods?: number;
  maxOrigins?: number;
}

const INTERVALS =
  "normal bands ŷ ± z·σ_h (z = 1.2816 for 80%, 1.9600 for 95%); σ_h from the in-sample one-step residual SD with each method's h-step formula (FPP3 Table 5.2 for the naive methods, Hyndman et al. 2008 ch. 6 / FPP3 Table 8.8 for exponential smoothing)";

/** Forecast chosen by backtest: the candidate with the lowest rolling-origin MASE is refitted on the
 *  whole series. Series shorter than 2 periods + 1 + holdout get seasonal naive (naive below one
 *  period) without a backtest, and the reason says so. */
export function forecastSeries(values: readonly number[], options: ForecastOptions): ForecastReport {
  const { horizon, period = 7, maxOrigins = 3 } = options;
  if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`forecastSeries: horizon must be a positive integer, got ${horizon}`);
  if (!Number.isInteger(period) || period < 2) throw new RangeError(`forecastSeries: period must be an integer ≥ 2, got ${period}`);
  if (values.length === 0) throw new RangeError("forecastSeries: empty series");
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`forecastSeries: values must be finite, got ${v}`);
  const holdout = period * (options.holdoutPeriods ?? Math.ceil(horizon / period));
  const needed = 2 * period + 1 + holdout;
  let method: ForecastMethod;
  let report: BacktestReport | null = null;
  let reason: string;
  if (values.length < needed) {
    method = values.length >= period + 1 ? "seasonal_naive" : "naive";
    reason = `too short for a backtest: ${values.length} values, need ${needed} (two seasons of ${period} + 1 to fit Holt–Winters, plus a ${holdout}-value holdout); ${method === "naive" ? "naive (last value)" : "seasonal naive"} without comparison`;
  } else {
    report = backtest(values, { period, holdout, maxOrigins });
    method = report.chosen;
    const naive = report.candidates.find((c) => c.method === "seasonal_naive")!;
    const chosen = report.candidates.find((c) => c.method === method)!;
    const fmt = (s: CandidateScore) => (report!.criterion === "mase" ? `MASE ${s.mase!.toFixed(3)}` : `MAE ${s.mae.toPrecision(4)}`);
    reason =
      method === "seasonal_naive"
        ? `seasonal naive had the lowest backtest error (${fmt(chosen)}): no model beat it`
        : `${method} beat seasonal naive in the backtest (${fmt(chosen)} vs ${fmt(naive)})`;
    reason += ` over ${report.origins} origin(s) × ${holdout} values`;
  }
  const f = forecastWith(method, values, period, horizon);
  return {
    method,
    horizon,
    period,
    points: f.mean.map((mean, i) => ({
      step: i + 1,
      mean,
      lower80: mean - Z80 * f.sd[i]!,
      upper80: mean + Z80 * f.sd[i]!,
      lower95: mean - Z95 * f.sd[i]!,
      upper95: mean + Z95 * f.sd[i]!,
    })),
    sigma: f.sigma,
    params: f.params,
    backtest: report,
    reason,
    intervals: INTERVALS,
  };
}
