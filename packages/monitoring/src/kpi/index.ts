// The KPI module: definitions, window/bucket values and live counts, for the dashboard tools and
// for trends, anomalies, alerts and reports (which build on kpiSeries / kpiValues).
export { KPI_NAMES, KPI_DEFS, isKpiName } from "./definitions.ts";
export type { KpiName, KpiDef, KpiUnit } from "./definitions.ts";
export { kpiSeries, kpiValues, computeKpis, bucketStarts, localDate } from "./series.ts";
export type { KpiComputation } from "./series.ts";
export type { Granularity } from "./queries.ts";
export { resolveKpiRange, KpiRangeInput, KPI_PERIODS, MAX_RANGE_DAYS, MAX_DAILY_POINTS } from "./range.ts";
export type { KpiRange, KpiPeriod } from "./range.ts";
export { realTimeMetrics, REALTIME_METRICS, REALTIME_DEFS } from "./realtime.ts";
export type { RealTimeMetric, RealTimeMetrics } from "./realtime.ts";
