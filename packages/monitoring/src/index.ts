// @marketsage/monitoring: KPIs, trends and forecasts, anomalies, alerts, reports with charts,
// system health and the audit log.
export { forecastSeries, backtest, detectAnomalies, dayOfWeekProfile, seriesTrend, median, mad, quantile, theilSen, mannKendall } from "./stats/index.ts";
export type { ForecastReport, BacktestReport, AnomalyReport, Anomaly, DayOfWeekProfile, MannKendall } from "./stats/index.ts";
export { auditTools, queryAuditLog, verifyAuditLogTool } from "./tools/audit.ts";
export { kpiTools } from "./tools/kpi.ts";
export { KPI_NAMES, KPI_DEFS, kpiSeries, kpiValues, realTimeMetrics } from "./kpi/index.ts";
export type { KpiName, KpiDef } from "./kpi/index.ts";
export { analyzePerformanceTrends } from "./tools/trends.ts";
export { getAnomalyDetection, scanAnomalies, ANOMALY_KPIS } from "./tools/anomalies.ts";
export { alertTools, setAlertThreshold, listAlertThresholds, deleteAlertThreshold, getAlerts } from "./tools/alerts.ts";
export { evaluateAlerts } from "./alerts/evaluate.ts";
export { alertsWorker } from "./alerts/worker.ts";
export { monitoringServer, monitoringTools, monitoringPackage } from "./server.ts";
export { weeklyExecutiveSummary } from "./prompts.ts";
export { generatePerformanceReport, reportResource } from "./tools/report.ts";
export { getSystemHealth } from "./tools/health.ts";
export { systemHealth } from "./health/index.ts";
