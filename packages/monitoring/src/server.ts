// The monitoring server's module: its tools by method name (the typed client's methods), its
// prompt and resource, and what the catalog loads.
import type { ServerModule } from "@marketsage/core";
import { weeklyExecutiveSummary } from "./prompts.ts";
import { deleteAlertThreshold, getAlerts, listAlertThresholds, setAlertThreshold } from "./tools/alerts.ts";
import { getAnomalyDetection } from "./tools/anomalies.ts";
import { queryAuditLog, verifyAuditLogTool } from "./tools/audit.ts";
import { getSystemHealth } from "./tools/health.ts";
import { kpiTools } from "./tools/kpi.ts";
import { generatePerformanceReport, reportResource } from "./tools/report.ts";
import { analyzePerformanceTrends } from "./tools/trends.ts";

const [getKpiDashboard, getRealTimeMetrics] = kpiTools;

/** The tools by method name. */
export const monitoringTools = {
  getKpiDashboard,
  getRealTimeMetrics,
  analyzePerformanceTrends,
  getAnomalyDetection,
  setAlertThreshold,
  listAlertThresholds,
  deleteAlertThreshold,
  getAlerts,
  generatePerformanceReport,
  getSystemHealth,
  queryAuditLog,
  verifyAuditLog: verifyAuditLogTool,
} as const;

export const monitoringServer: ServerModule = {
  name: "monitoring",
  version: "0.1.0",
  instructions:
    "KPIs, trends, forecasts, anomalies and alerts of one MarketSage organization (the one your API key belongs to), computed from its data at " +
    "call time in its time zone and reporting currency; reports with charts, system health and its audit log. Start with get_kpi_dashboard.",
  tools: Object.values(monitoringTools),
  resources: [reportResource],
  prompts: [weeklyExecutiveSummary],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const monitoringPackage = {
  module: monitoringServer,
  tools: monitoringTools,
  healthCheck: { tool: "get_real_time_metrics", args: { minutes: 5 } },
};
