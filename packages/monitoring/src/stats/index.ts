// The statistics the monitoring tools report: pure functions, no I/O, no randomness.
export { mean, variance, median, mad, meanAbsoluteDeviation, quantile, quantiles, theilSen, ols, seriesTrend, MAD_NORMAL_SCALE } from "./robust.ts";
export type { Line } from "./robust.ts";
export { logGamma, regularizedGammaQ, chiSquareSf } from "./special.ts";
export { runningMedian, robustDecompose, seasonalStrength, kruskalWallis, seasonalProfile, dayOfWeekProfile, WEEKDAY_NAMES } from "./seasonality.ts";
export type { Decomposition, RankTest, SeasonalProfile, SeasonalProfileOptions, DayOfWeekProfile } from "./seasonality.ts";
export { nelderMead } from "./optimize.ts";
export type { Minimum } from "./optimize.ts";
export { smoothingFilter, smoothingPointForecast, smoothingForecastSd, initialState, minimumLength, fitSmoothing, smoothingForecast } from "./smoothing.ts";
export type { SmoothingKind, SmoothingParams, SmoothingState, FilterResult, SmoothingFit } from "./smoothing.ts";
export { naiveForecast, seasonalNaiveForecast, seasonalNaiveDriftForecast } from "./naive.ts";
export type { PointForecast } from "./naive.ts";
export { FORECAST_CANDIDATES, forecastWith, seasonalNaiveMae, mape, backtest, forecastSeries } from "./forecast.ts";
export type { ForecastMethod, MethodForecast, CandidateScore, BacktestReport, ForecastPoint, ForecastReport, ForecastOptions } from "./forecast.ts";
export { detectAnomalies } from "./anomalies.ts";
export { mannKendall } from "./trend-test.ts";
export type { MannKendall } from "./trend-test.ts";
export type { Anomaly, AnomalyReport, AnomalyOptions } from "./anomalies.ts";
