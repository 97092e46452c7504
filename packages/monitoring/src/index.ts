// @marketsage/monitoring: KPIs, trends and forecasts, anomalies, alerts, reports with charts,
// system health and the audit log (issue 14; not in the catalog yet). Today: the statistics and
// the audit tools.
export { forecastSeries, backtest, detectAnomalies, dayOfWeekProfile, seriesTrend, median, mad, quantile, theilSen } from "./stats/index.ts";
export type { ForecastReport, BacktestReport, AnomalyReport, Anomaly, DayOfWeekProfile } from "./stats/index.ts";
export { auditTools, queryAuditLog, verifyAuditLogTool } from "./tools/audit.ts";
