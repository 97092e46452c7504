// The monitoring server's module: its tools by method name (the typed client's methods), its
// prompt, and what the catalog will load. Not in the catalog yet (issue 14: the report, system
// health and the KPI rollups come first).
import type { ServerModule } from "@marketsage/core";
import { weeklyExecutiveSummary } from "./prompts.ts";
import { deleteAlertThreshold, getAlerts, listAlertThresholds, setAlertThreshold } from "./tools/alerts.ts";
import { getAnomalyDetection } from "./tools/anomalies.ts";
import { queryAuditLog, verifyAuditLogTool } from "./tools/audit.ts";
import { kpiTools } from "./tools/kpi.ts";
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
  queryAuditLog,
  verifyAuditLog: verifyAuditLogTool,
} as const;

export const monitoringServer: ServerModule = {
  name: "monitoring",
  version: "0.1.0",
  instructions:
    "KPIs, trends, forecasts, anomalies and alerts of one MarketSage organization (the one your API key belongs to), computed from its data at " +
    "call time in its time zone and reporting currency; and its audit log. Start with get_kpi_dashboard.",
  tools: Object.values(monitoringTools),
  prompts: [weeklyExecutiveSummary],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const monitoringPackage = {
  module: monitoringServer,
  tools: monitoringTools,
  healthCheck: { tool: "get_real_time_metrics", args: { minutes: 5 } },
};
